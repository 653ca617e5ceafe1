# External Secrets Operator, the peer `make bench-peers` measures reseed's secret-sync against
# (test/bench/peers.ts). Built from a wrapper Go module like the servers, but a bench-only tool:
# nothing in `make servers` or `make test` depends on it. Included by the top Makefile after
# servers.mk, whose helpers it uses.
#
# ESO's go.mod replaces Masterminds/sprig with its own fork; a dependency's replace directives
# are ignored, so the wrapper's go.mod repeats it. ESO's own build sets no version ldflags.
#
# Built on a 2-core shared machine: 29 min cold (empty Go build cache, an earlier build); 23 s wall (15 s user,
# 4 s sys) with the build cache warm from an earlier build of the same dependencies.

ESO_MODULE := github.com/external-secrets/external-secrets
ESO_VERSION := $(call gomod_version,external-secrets,$(ESO_MODULE))
ESO_KEY := $(call build_key,external-secrets,)
ESO_FILE := $(BIN)/external-secrets-$(ESO_VERSION)-$(ESO_KEY)
# The CRDs the controller needs (ExternalSecret, SecretStore and the rest it watches), from
# the same module version as the binary.
ESO_CRDS_DIR := $(CACHE)/external-secrets-$(ESO_VERSION)-$(ESO_KEY)/crds

# As for the servers, a value already given wins and is not built here (servers.mk: given).
ifneq ($(call given,RESEED_ESO,$(ESO_FILE)),)
SERVERS_ESO :=
else
RESEED_ESO := $(ESO_FILE)
SERVERS_ESO := $(ESO_FILE)
endif
ifneq ($(call given,RESEED_ESO_CRDS,$(ESO_CRDS_DIR)),)
SERVERS_ESO_CRDS :=
else
RESEED_ESO_CRDS := $(ESO_CRDS_DIR)
SERVERS_ESO_CRDS := $(ESO_CRDS_DIR)/.complete
endif
export RESEED_ESO RESEED_ESO_CRDS

$(ESO_FILE):
	$(call go_tool_build,external-secrets,$(ESO_MODULE),)

# config/crds/bases also holds a kustomization.yaml, which is no CRD.
$(ESO_CRDS_DIR)/.complete:
	@mkdir -p $(dir $(@D))
	tmp=$(@D).$$$$.tmp && mkdir $$tmp \
	  && install -m 0644 "$(call gomod_dir,external-secrets,$(ESO_MODULE))"/config/crds/bases/*external-secrets.io_*.yaml $$tmp/ \
	  && touch $$tmp/.complete && { mv -T $$tmp $(@D) 2>/dev/null || rm -rf $$tmp; } && test -e $@

.PHONY: eso
eso: $(SERVERS_ESO) $(SERVERS_ESO_CRDS)
