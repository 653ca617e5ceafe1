# OpenBao (the Vault API) for the tests: `bao server -dev`, built from a wrapper Go module.
# Included by the top Makefile after servers.mk, whose helpers it uses.
#
# OpenBao's release tags (v2.4.0) are not valid module versions for its root module, so the
# wrapper requires the pseudo-version of the v2.4.0 release commit (f9407a27fbee), with the
# api/v2 and sdk/v2 submodules at their matching v2.4.0 tags. A few go-kms-wrapping modules
# are missing from the checksum database, so go.sum (committed) is their only checksum.
#
# Cold build measured on a 2-core machine, empty Go build cache, modules already
# downloaded: bao v2.4.0  36m40s wall while other builds kept the load average near 20,
# for 9m05s user + 1m01s sys of CPU, so about 5-6 minutes on an idle 2-core machine. A
# relink after a version bump with a warm cache: 28 s. Downloading the modules (first run):
# about 45 s.

OPENBAO_MODULE := github.com/openbao/openbao
OPENBAO_VERSION := $(call gomod_version,openbao,$(OPENBAO_MODULE))
# The version the server reports (sys/seal-status, logs): the release the commit is.
OPENBAO_RELEASE := 2.4.0

ifneq ($(call given,RESEED_BAO,$(BIN)/bao),)
SERVERS_BAO :=
else
RESEED_BAO := $(BIN)/bao
SERVERS_BAO := $(RESEED_BAO)
endif
export RESEED_BAO

servers: $(SERVERS_BAO)

OPENBAO_LDFLAGS := -X $(OPENBAO_MODULE)/version.fullVersion=$(OPENBAO_RELEASE) -X $(OPENBAO_MODULE)/version.GitCommit=$(lastword $(subst -, ,$(OPENBAO_VERSION)))
# Named by content (see build_key in servers.mk), never judged by mtime.
OPENBAO_FILE := $(BIN)/bao-$(OPENBAO_VERSION)-$(call build_key,openbao,$(OPENBAO_LDFLAGS))
$(OPENBAO_FILE):
	$(call go_tool_build,openbao,$(OPENBAO_MODULE),$(OPENBAO_LDFLAGS))

# Phony for the same reason as the links in servers.mk.
.PHONY: $(BIN)/bao
$(BIN)/bao: $(OPENBAO_FILE)
	@ln -sfn $(notdir $<) $@
