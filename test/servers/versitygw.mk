# versitygw (S3-compatible, Apache-2.0) for the e2e cluster's artifact repository, where
# archiveLogs puts each step's log (docs/evidence-archive.md). Included by the top Makefile
# after servers.mk, whose helpers it uses.
#
# Cold build measured on the 2-core dev machine (modules downloaded, Go build cache cold for
# its packages, other builds sharing the machine):
#   versitygw v1.8.0   10m58s wall with the load average above 20, 2m26s of CPU (128 s user
#                      + 17 s sys): about 1-2 minutes on an idle 2-core machine
# Warm (nothing changed): make skips it.

VERSITYGW_MODULE := github.com/versity/versitygw
VERSITYGW_VERSION := $(call gomod_version,versitygw,$(VERSITYGW_MODULE))
VERSITYGW_FILE := $(BIN)/versitygw-$(VERSITYGW_VERSION)-$(call build_key,versitygw,)

ifneq ($(call given,RESEED_VERSITYGW,$(VERSITYGW_FILE)),)
SERVERS_VERSITYGW :=
else
RESEED_VERSITYGW := $(VERSITYGW_FILE)
SERVERS_VERSITYGW := $(VERSITYGW_FILE) $(BIN)/versitygw
endif
export RESEED_VERSITYGW

$(VERSITYGW_FILE):
	$(call go_tool_build,versitygw,$(VERSITYGW_MODULE)/cmd/versitygw,)

# Phony for the same reason as the links in servers.mk.
.PHONY: $(BIN)/versitygw
$(BIN)/versitygw: $(VERSITYGW_FILE)
	@ln -sfn $(notdir $<) $@
