# Argo CD for the e2e suite (test/e2e/argo-cd.test.ts): the application controller and the
# repo server, from a small main of ours over the module (test/servers/argocd/main.go says
# why not upstream's), plus Redis from Debian. Included by the top Makefile after servers.mk,
# whose helpers it uses.
#
# Argo CD v3.6.2 declares go 1.27, newer than the machine's Go, so the build names the
# toolchain (the Go proxy serves it; GOTOOLCHAIN=local is this machine's default).
#
# Cold build measured on the 2-core dev machine, empty Go build cache for that toolchain,
# modules already downloaded, while other engineers' builds kept the load average near 20:
#   argocd (controller + repo server) v3.6.2   19m43s wall, 8m15s of CPU (415 s user + 80 s
#                                              sys): about 4-5 minutes on an idle 2-core machine
#   the same after a change to main.go         5m32s wall under that load, 24 s of CPU (relink)
# Warm (nothing changed): make skips it. Downloading the modules and the go1.27.3 toolchain
# (first run): about 30 s.

ARGOCD_MODULE := github.com/argoproj/argo-cd/v3
ARGOCD_VERSION := $(call gomod_version,argocd,$(ARGOCD_MODULE))
ARGOCD_TOOLCHAIN := go1.27.3
# As upstream's Makefile sets it: the controller reports it, and puts it in its user agent.
ARGOCD_LDFLAGS := -X $(ARGOCD_MODULE)/common.version=$(patsubst v%,%,$(ARGOCD_VERSION))
# main.go is ours, so it is part of the key beside go.mod and go.sum (see build_key).
ARGOCD_KEY := $(shell cat $(addprefix $(SERVERS_DIR)/argocd/,go.mod go.sum main.go) | { cat; echo '$(ARGOCD_LDFLAGS)'; } | sha256sum | cut -c1-10)
ARGOCD_FILE := $(BIN)/argocd-$(ARGOCD_VERSION)-$(ARGOCD_KEY)
# The module's source: the e2e test applies its CRDs (manifests/crds) and puts its
# hack/git-verify-wrapper.sh on the repo server's PATH, as upstream's image does.
ARGOCD_SRC := $$(cd $(SERVERS_DIR)/argocd && export GOTOOLCHAIN=$(ARGOCD_TOOLCHAIN) \
  && go mod download $(ARGOCD_MODULE) && go list -m -f '{{.Dir}}' $(ARGOCD_MODULE))

ifneq ($(call given,RESEED_ARGOCD,$(ARGOCD_FILE)),)
SERVERS_ARGOCD :=
else
RESEED_ARGOCD := $(ARGOCD_FILE)
SERVERS_ARGOCD := $(ARGOCD_FILE) $(BIN)/argocd
endif
export RESEED_ARGOCD

$(ARGOCD_FILE): export GOTOOLCHAIN := $(ARGOCD_TOOLCHAIN)
$(ARGOCD_FILE):
	$(call go_tool_build,argocd,.,$(ARGOCD_LDFLAGS))

# Phony for the same reason as the links in servers.mk.
.PHONY: $(BIN)/argocd
$(BIN)/argocd: $(ARGOCD_FILE)
	@ln -sfn $(notdir $<) $@
