# A real single-node cluster with real Argo Workflows, without a Docker engine, for the
# e2e tests (test/e2e). Included by the top Makefile after test/servers/servers.mk, whose
# wrapper modules pin every version used here.
#
#   make e2e            build what is missing, bring the cluster up, install Argo and the
#                       chart, run test/e2e against it, take the cluster down
#   make e2e-bench      the same cluster, and what an unchanged run costs (test/e2e/bench.ts)
#   make e2e-install-order  the same cluster, and how Argo takes the CronWorkflows in each
#                       install order (test/e2e/install-order.ts)
#   make cluster-up     the same cluster, left running (KUBECONFIG: make cluster-env)
#   make cluster-down   stop it and remove everything it made
#   make cluster-images the OCI archives the cluster runs
#
# Cold builds measured on a 2-core machine while three other Go builds ran beside
# it (load average about 20; modules downloaded, Go build cache warm from kube-apiserver):
#   kubelet, kube-proxy, kube-scheduler, kube-controller-manager   13m04s (3m34s of CPU)
#   workflow-controller + argoexec                                  1m03s (1.6 CPU-min)
#     right after the argo CLI (servers.mk), whose packages they reuse: the same copy and
#     flags (measured from an empty build cache for the three, load average 5 to 6)
#   pause, argoexec and workflow-controller images (umoci)         seconds each
#   Node 24 base + the four step images (buildah, vfs)             2m12s
# Warm (nothing changed), make skips them all.

CLUSTER_SCRIPTS := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
CLUSTER_DIR ?= $(CACHE)/cluster
IMAGES := $(CACHE)/images
BUILDAH_DIR := $(CACHE)/buildah
BUILDAH := buildah --root $(BUILDAH_DIR)/root --runroot $(BUILDAH_DIR)/run --storage-driver vfs

# Debian packages the node needs; installed when a command is missing.
# redis-server is Argo CD's cache (test/e2e/argo-cd.test.ts).
CLUSTER_PACKAGES := containerd runc containernetworking-plugins buildah umoci iptables redis-server
CLUSTER_COMMANDS := containerd runc buildah umoci iptables /usr/lib/cni/bridge redis-server

.PHONY: cluster-deps
cluster-deps:
	@missing=; for c in $(CLUSTER_COMMANDS); do command -v $$c >/dev/null || missing=1; done; \
	if [ -n "$$missing" ]; then \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $(CLUSTER_PACKAGES); \
	fi

# ---------------------------------------------------------------- binaries

KUBE_NODE_NAMES := kube-controller-manager kube-scheduler kubelet kube-proxy
KUBE_NODE_BINS := $(KUBE_NODE_NAMES:%=$(BIN)/%-$(KUBE_VERSION))
$(KUBE_NODE_BINS): $(BIN)/%-$(KUBE_VERSION): $(SERVERS_DIR)/kube/go.mod $(SERVERS_DIR)/kube/go.sum
	$(call go_tool_build,kube,k8s.io/kubernetes/cmd/$*,$(KUBE_LDFLAGS))

# From the one patched copy of the module that the argo CLI is built from, static like it
# (argoexec is copied into every step container, whatever its base image) and with the same
# flags, so they reuse its compiled packages: see ARGO_KEY and $(ARGO_SRC)/.complete in
# servers.mk. Named by the same key.
ARGO_NODE_NAMES := workflow-controller argoexec
ARGO_NODE_BINS := $(ARGO_NODE_NAMES:%=$(BIN)/%-$(ARGO_VERSION)-$(ARGO_KEY))
$(ARGO_NODE_BINS): $(BIN)/%-$(ARGO_VERSION)-$(ARGO_KEY): | $(ARGO_SRC)/.complete
	$(call argo_build,$*)

CLUSTER_LINKS := $(KUBE_NODE_NAMES:%=$(BIN)/%) $(ARGO_NODE_NAMES:%=$(BIN)/%)
.PHONY: $(CLUSTER_LINKS)
$(KUBE_NODE_NAMES:%=$(BIN)/%): $(BIN)/%: $(BIN)/%-$(KUBE_VERSION)
	@ln -sfn $(notdir $<) $@
$(ARGO_NODE_NAMES:%=$(BIN)/%): $(BIN)/%: $(BIN)/%-$(ARGO_VERSION)-$(ARGO_KEY)
	@ln -sfn $(notdir $<) $@

$(BIN)/pause: $(CLUSTER_SCRIPTS)/pause/main.go $(CLUSTER_SCRIPTS)/pause/go.mod
	@mkdir -p $(@D)
	cd $(CLUSTER_SCRIPTS)/pause && CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o $@.tmp .
	mv -f $@.tmp $@

# ---------------------------------------------------------------- images

# Archives are named <repository>@<tag>.tar with '/' as '+'; cluster.sh imports each one.
image_archive = $(IMAGES)/$(subst /,+,$(1))@$(2).tar
# $(call static_image,binary,path in image,umoci config options): $@ from one file.
define static_image
@mkdir -p $(@D)
rm -rf $@.root && mkdir -p $@.root$(dir $(2))
cp $(1) $@.root$(2)
$(CLUSTER_SCRIPTS)/oci-image.sh $@ $(lastword $(subst @, ,$(basename $(notdir $@)))) $@.root $(3)
rm -rf $@.root
endef

PAUSE_IMAGE := $(call image_archive,registry.k8s.io/pause,3.10)
$(PAUSE_IMAGE): $(BIN)/pause $(CLUSTER_SCRIPTS)/oci-image.sh
	$(call static_image,$<,/pause,--config.entrypoint=/pause --config.user=65535:65535)

ARGOEXEC_IMAGE_REF := localhost/argoproj/argoexec:$(ARGO_VERSION)
CONTROLLER_IMAGE_REF := localhost/argoproj/workflow-controller:$(ARGO_VERSION)
ARGOEXEC_IMAGE := $(call image_archive,localhost/argoproj/argoexec,$(ARGO_VERSION))
CONTROLLER_IMAGE := $(call image_archive,localhost/argoproj/workflow-controller,$(ARGO_VERSION))
# The upstream images run as uid 8737 with the binary on PATH; the controller names
# `argoexec` without a path in every pod it makes.
IMAGE_PATH_ENV := --config.env=PATH=/usr/local/bin:/usr/bin:/bin
$(ARGOEXEC_IMAGE): $(BIN)/argoexec-$(ARGO_VERSION)-$(ARGO_KEY) $(CLUSTER_SCRIPTS)/oci-image.sh
	$(call static_image,$<,/bin/argoexec,--config.entrypoint=argoexec --config.user=8737 $(IMAGE_PATH_ENV))
$(CONTROLLER_IMAGE): $(BIN)/workflow-controller-$(ARGO_VERSION)-$(ARGO_KEY) $(CLUSTER_SCRIPTS)/oci-image.sh
	$(call static_image,$<,/bin/workflow-controller,--config.entrypoint=workflow-controller --config.user=8737 $(IMAGE_PATH_ENV))

# The Node 24 base for steps/Dockerfile: the npm registry's Node binary and its libraries.
NODE_BASE_REF := localhost/reseed-node:24
NODE_BASE := $(CACHE)/build/reseed-node-24.tar
# A fresh clone gives every input a new mtime, so make alone would rebuild the Node base and
# the step images on each one (about two minutes of buildah). What decides is a key of their
# content instead, kept beside the archive in <archive>.key: $(call same_key,key) is true (and
# touches the archive, so make is content too) when the archive was built from that key.
same_key = [ -f $@ ] && [ "$$(cat $@.key 2>/dev/null)" = "$(1)" ] && touch $@
NODE_BASE_KEY = $$({ sha256sum < "$$(readlink -f node_modules/node/bin/node)"; \
  cat $(CLUSTER_SCRIPTS)/node-rootfs.sh $(CLUSTER_SCRIPTS)/oci-image.sh; } | sha256sum | cut -c1-16)
$(NODE_BASE): $(NODE_DEPS) $(CLUSTER_SCRIPTS)/node-rootfs.sh $(CLUSTER_SCRIPTS)/oci-image.sh
	@mkdir -p $(@D)
	@key=$(NODE_BASE_KEY); \
	if $(call same_key,$$key) && $(BUILDAH) inspect --type image $(NODE_BASE_REF) >/dev/null 2>&1; then exit 0; fi; \
	set -ex; \
	$(CLUSTER_SCRIPTS)/node-rootfs.sh $@.root "$$(readlink -f node_modules/node/bin/node)"; \
	$(CLUSTER_SCRIPTS)/oci-image.sh $@ 24 $@.root --config.entrypoint=/nodejs/bin/node --config.user=65532:65532; \
	rm -rf $@.root; \
	$(BUILDAH) rmi -f $(NODE_BASE_REF) >/dev/null 2>&1 || true; \
	$(BUILDAH) tag "$$($(BUILDAH) pull -q oci-archive:$@)" $(NODE_BASE_REF); \
	echo "$$key" > $@.key

# For `make images BASES=local` (release/release.mk), which names it before this file is read.
.PHONY: node-base
node-base: $(NODE_BASE)

# The step images, from steps/Dockerfile as it is, built as `make images BASES=local` builds
# them (release/release.mk's image_build): the bundles `make build` made (the build stage's
# npm ci needs the registry) and the local Node base as both bases. Names and tag are the
# chart's defaults: its registry, and the one version (package.json) as its appVersion.
STEP_NAMES := validate-inputs wait-deps ensure-state verify
STEP_TAG := $(VERSION)
STEP_REPO := $(DEFAULT_REGISTRY)/reseed
STEP_IMAGES := $(foreach s,$(STEP_NAMES),$(call image_archive,$(STEP_REPO)-$(s),$(STEP_TAG)))
# Keyed by what the images are made of: the bundles, the Dockerfile and the Node base's key.
STEP_IMAGE_KEY = $$(cat $$(find dist -type f ! -name .built | LC_ALL=C sort) steps/Dockerfile $(NODE_BASE).key \
  | sha256sum | cut -c1-16)
$(STEP_IMAGES): $(IMAGES)/$(subst /,+,$(STEP_REPO))-%@$(STEP_TAG).tar: dist/.built steps/Dockerfile $(NODE_BASE)
	@mkdir -p $(@D)
	@key=$(STEP_IMAGE_KEY); \
	if $(call same_key,$$key); then exit 0; fi; \
	set -ex; \
	$(call image_build,buildah,$*,$(STEP_REPO)-$*:$(STEP_TAG),local) >/dev/null; \
	$(BUILDAH) push --quiet $(STEP_REPO)-$*:$(STEP_TAG) oci-archive:$@.tmp:$(STEP_TAG); \
	mv -f $@.tmp $@; \
	echo "$$key" > $@.key

CLUSTER_IMAGES := $(PAUSE_IMAGE) $(ARGOEXEC_IMAGE) $(CONTROLLER_IMAGE) $(STEP_IMAGES)
.PHONY: cluster-images
cluster-images: cluster-deps $(CLUSTER_IMAGES)

# ---------------------------------------------------------------- cluster

CLUSTER_ENV := CLUSTER_DIR=$(CLUSTER_DIR) CLUSTER_BIN=$(BIN) CLUSTER_IMAGES=$(IMAGES)

.PHONY: cluster-up cluster-down cluster-env
cluster-up: cluster-deps $(BIN)/kube-apiserver $(BIN)/etcd $(KUBE_NODE_NAMES:%=$(BIN)/%) $(CLUSTER_IMAGES)
	$(CLUSTER_ENV) $(CLUSTER_SCRIPTS)/cluster.sh up
cluster-down:
	$(CLUSTER_ENV) $(CLUSTER_SCRIPTS)/cluster.sh down
cluster-env:
	@$(CLUSTER_ENV) $(CLUSTER_SCRIPTS)/cluster.sh env

# ---------------------------------------------------------------- e2e

ARGO_INSTALL := ARGO_MANIFESTS="$(call gomod_dir,argo,$(ARGO_MODULE))/manifests" ARGO_CRDS=$(RESEED_ARGO_CRDS) \
  CONTROLLER_IMAGE=$(CONTROLLER_IMAGE_REF) EXECUTOR_IMAGE=$(ARGOEXEC_IMAGE_REF) $(CLUSTER_SCRIPTS)/argo-install.sh
# RESEED_E2E_NODE_CTL: how the fault tests restart the API server and kill a container.
E2E_ENV := KUBECONFIG=$(CLUSTER_DIR)/admin.kubeconfig RESEED_E2E_AUDIT_LOG=$(CLUSTER_DIR)/logs/audit.log \
  RESEED_ARGOCD_SRC="$(ARGOCD_SRC)" $(CLUSTER_ENV) RESEED_E2E_NODE_CTL=$(CLUSTER_SCRIPTS)/cluster.sh

E2E_DEPS := $(NODE_DEPS) dist/.built $(SERVERS_HELM) $(SERVERS_ARGO) $(SERVERS_ARGO_CRDS) $(SERVERS_ARGOCD) $(SERVERS_VERSITYGW) $(SERVERS_POSTGRES) cluster-deps \
  $(BIN)/kube-apiserver $(BIN)/etcd $(KUBE_NODE_NAMES:%=$(BIN)/%) $(CLUSTER_IMAGES)
# Everything `make e2e` builds, without a cluster: `make test` builds it beside the other
# tests (see there).
.PHONY: e2e-deps
e2e-deps: $(E2E_DEPS)

# $(call with_cluster,command): up, Argo installed, the command, down whatever it did;
# fails if the command failed.
define with_cluster
$(CLUSTER_ENV) $(CLUSTER_SCRIPTS)/cluster.sh up
status=0; { $(E2E_ENV) $(ARGO_INSTALL) && $(E2E_ENV) $(1); } || status=$$?; \
$(CLUSTER_ENV) $(CLUSTER_SCRIPTS)/cluster.sh down; exit $$status
endef

# E2E_TESTS= runs only the files (or name filters) given, e.g. test/e2e/fresh-install.test.ts.
.PHONY: e2e e2e-bench e2e-install-order
e2e: $(E2E_DEPS)
	$(call with_cluster,node test/run-vitest.mjs vitest run --config test/e2e/vitest.config.ts $(E2E_TESTS))
e2e-bench: $(E2E_DEPS)
	$(call with_cluster,$(TS_NODE) test/e2e/bench.ts)
e2e-install-order: $(E2E_DEPS)
	$(call with_cluster,$(TS_NODE) test/e2e/install-order.ts)

# The same tests against a kind cluster with the upstream Argo images (needs Docker and
# kind: a laptop, not the project's machines). See test/e2e/kind.sh.
.PHONY: e2e-kind
e2e-kind: $(NODE_DEPS) $(SERVERS_HELM) $(SERVERS_ARGO) $(SERVERS_ARGO_CRDS)
	ARGO_MANIFESTS="$(call gomod_dir,argo,$(ARGO_MODULE))/manifests" ARGO_CRDS=$(RESEED_ARGO_CRDS) \
	  ARGO_VERSION=$(ARGO_VERSION) STEP_TAG=$(STEP_TAG) test/e2e/kind.sh
