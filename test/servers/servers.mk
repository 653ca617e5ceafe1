# Real servers and CLIs for the tests, built from source with Go (no Docker, no
# prebuilt downloads). Included by the top Makefile, which defines CACHE and BIN.
#
# Each wrapper module's go.mod is the single source of a version. A built file is named
# by that version and a hash of go.mod, go.sum and the build flags, and never judged by
# mtime: a bump builds a new file, an old one stays usable, and a fresh clone finds what
# an earlier clone on the machine built. Release ldflags are set where the upstream
# build sets them, because the tools report or default to their version.
#
# Cold builds measured on a 2-core machine, each with an empty Go build cache and
# the modules already downloaded. Other work shared the machine (load average 4 to 24),
# so these are upper bounds; the first kube-apiserver build ran on a quieter machine.
#   kube-apiserver v1.34.4   6m08s quiet, 22m55s under load
#   etcd v3.6.16             1m41s
#   helm v3.22.0             2m16s
#   argo v3.7.18             5m08s (6.8 CPU-min), static, load average 4 to 7; then
#                            workflow-controller 24s and argoexec 40s (cluster.mk) reuse
#                            its packages (0.6 and 1.0 CPU-min)
#   promtool v0.316.0        4m27s with -tags remove_all_sd, 9m48s without (4.2 and 9.7 CPU-min;
#                            both niced beside a CI run, their modules downloaded as part of it)
#   Argo CRDs (crdjson)      1m03s (compiling the converter)
# They share much of the build cache, so all of them in a row take less than the sum.
# A warm `make servers` (nothing changed) takes under a second.

SERVERS_DIR := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))

# $(call gomod_version,dir,module): the version a wrapper module requires.
gomod_version = $(shell awk '$$1 == "$(2)" { print $$2 }' $(SERVERS_DIR)/$(1)/go.mod)
# $(call gomod_dir,dir,module): shell text printing the module's source directory,
# downloading it first if needed.
gomod_dir = $$(cd $(SERVERS_DIR)/$(1) && go mod download $(2) && go list -m -f '{{.Dir}}' $(2))
# $(call build_key,dir,extra): a short hash of a wrapper module's go.mod, go.sum and build
# flags. Built files are named by version and key, never judged by mtime: a fresh clone has
# new mtimes everywhere and must still find what an earlier clone built.
# $(call given,VAR,default): what VAR names when that is not this Makefile's own default:
# a binary of the developer's, which wins and is not built here. A value equal to the
# default is ours, exported by a parent make (make test runs make e2e and e2e-deps as
# sub-makes), and must still be built: testing with ifdef left the sub-make believing
# the developer had given it, so a cold `make test` never built Argo CD or versitygw.
given = $(filter-out $(2),$($(1)))

build_key = $(shell { cat $(SERVERS_DIR)/$(1)/go.mod $(SERVERS_DIR)/$(1)/go.sum; echo '$(2) $(GO_NODEBUG_GCFLAGS) $(GO_NODEBUG_LDFLAGS)'; } | sha256sum | cut -c1-10)
# $(call semver_word,version,n): major (1) or minor (2) of vX.Y.Z.
semver_word = $(word $(2),$(subst ., ,$(patsubst v%,%,$(1))))

ARGO_MODULE := github.com/argoproj/argo-workflows/v3

KUBE_VERSION := $(call gomod_version,kube,k8s.io/kubernetes)
ETCD_VERSION := $(call gomod_version,etcd,go.etcd.io/etcd/server/v3)
HELM_VERSION := $(call gomod_version,helm,helm.sh/helm/v3)
HELM_KUBE_VERSION := $(call gomod_version,helm,k8s.io/client-go)
ARGO_VERSION := $(call gomod_version,argo,$(ARGO_MODULE))

# /version answers with this; clients (helm's .Capabilities, kubectl) read it.
KUBE_LDFLAGS := -X k8s.io/component-base/version.gitVersion=$(KUBE_VERSION) \
  -X k8s.io/component-base/version.gitMajor=$(call semver_word,$(KUBE_VERSION),1) \
  -X k8s.io/component-base/version.gitMinor=$(call semver_word,$(KUBE_VERSION),2)
# Like helm's own Makefile: the default .Capabilities.KubeVersion follows the
# client-go it was built with (v1.20 otherwise).
HELM_KUBE_MINOR := $(call semver_word,$(HELM_KUBE_VERSION),2)
HELM_LDFLAGS := -X helm.sh/helm/v3/internal/version.version=$(HELM_VERSION) \
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
  -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$(HELM_KUBE_MINOR) \
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 \
  -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=$(HELM_KUBE_MINOR)
ARGO_LDFLAGS := -X $(ARGO_MODULE).version=$(ARGO_VERSION)

KUBE_APISERVER_FILE := $(BIN)/kube-apiserver-$(KUBE_VERSION)-$(call build_key,kube,$(KUBE_LDFLAGS))
ETCD_FILE := $(BIN)/etcd-$(ETCD_VERSION)-$(call build_key,etcd,)
HELM_FILE := $(BIN)/helm-$(HELM_VERSION)-$(call build_key,helm,$(HELM_LDFLAGS))
PROMTOOL_VERSION := $(call gomod_version,promtool,github.com/prometheus/prometheus)
# remove_all_sd: Prometheus' own build tag that leaves out every service-discovery plugin
# (the cloud SDKs, client-go, consul …), which rule checks and rule tests never use; it more
# than halves the cold build (the figures at the top) and takes the binary from 123 to 77 MB.
PROMTOOL_TAGS := -tags remove_all_sd
PROMTOOL_FILE := $(BIN)/promtool-$(PROMTOOL_VERSION)-$(call build_key,promtool,$(PROMTOOL_TAGS))
# Argo's three commands (the CLI here, workflow-controller and argoexec in cluster.mk) build
# from one patched copy of the module (see $(ARGO_SRC)/.complete) with one environment and
# one set of flags, so the second and third builds reuse the first's compiled packages.
# Static: argoexec is copied into every step container, whatever its base image.
# -trimpath keeps the copy's path (keyed below) out of the build cache's keys, so a new key
# or another CACHE recompiles nothing that did not change.
ARGO_BUILD_ENV := CGO_ENABLED=0
ARGO_BUILD_FLAGS := -trimpath
# What the writable copy gets, run in it, and hashed into the key: a change rebuilds.
ARGO_PATCH := mkdir -p ui/dist/app && touch ui/dist/app/placeholder \
  && cp workflow/executor/osspecific/signal_darwin.go workflow/executor/osspecific/signal_linux.go
ARGO_KEY := $(call build_key,argo,$(ARGO_LDFLAGS) $(ARGO_BUILD_ENV) $(ARGO_BUILD_FLAGS) $(ARGO_PATCH))
ARGO_FILE := $(BIN)/argo-$(ARGO_VERSION)-$(ARGO_KEY)
ARGO_SRC := $(CACHE)/src/argo-workflows-$(ARGO_VERSION)-$(ARGO_KEY)
ARGO_CRDS_DIR := $(CACHE)/argo-$(ARGO_VERSION)-$(shell cat $(addprefix $(SERVERS_DIR)/argo/,go.mod go.sum crdjson/main.go) | sha256sum | cut -c1-10)/crds
# KUBEBUILDER_ASSETS must be a directory holding files named etcd and kube-apiserver.
KUBE_ASSETS := $(CACHE)/assets/$(notdir $(KUBE_APISERVER_FILE))_$(notdir $(ETCD_FILE))

# The tests get the exact files this checkout's go.mod files name, never the stable
# symlinks in $(BIN): another checkout sharing CACHE may relink those mid-run.
# A value already given (environment or command line) that is not the default below wins
# and is not built here (see given),
# so a developer can point the tests at binaries of their own.
ifneq ($(call given,KUBEBUILDER_ASSETS,$(KUBE_ASSETS)),)
SERVERS_KUBE :=
else
KUBEBUILDER_ASSETS := $(KUBE_ASSETS)
SERVERS_KUBE := $(KUBE_ASSETS)/.complete $(BIN)/kube-apiserver $(BIN)/etcd
endif
ifneq ($(call given,RESEED_HELM,$(HELM_FILE)),)
SERVERS_HELM :=
else
RESEED_HELM := $(HELM_FILE)
SERVERS_HELM := $(HELM_FILE) $(BIN)/helm
endif
ifneq ($(call given,RESEED_PROMTOOL,$(PROMTOOL_FILE)),)
SERVERS_PROMTOOL :=
else
RESEED_PROMTOOL := $(PROMTOOL_FILE)
SERVERS_PROMTOOL := $(PROMTOOL_FILE)
endif
ifneq ($(call given,RESEED_ARGO,$(ARGO_FILE)),)
SERVERS_ARGO :=
else
RESEED_ARGO := $(ARGO_FILE)
SERVERS_ARGO := $(ARGO_FILE) $(BIN)/argo
endif
ifneq ($(call given,RESEED_ARGO_CRDS,$(ARGO_CRDS_DIR)),)
SERVERS_ARGO_CRDS :=
else
RESEED_ARGO_CRDS := $(ARGO_CRDS_DIR)
SERVERS_ARGO_CRDS := $(ARGO_CRDS_DIR)/.complete
endif
export KUBEBUILDER_ASSETS RESEED_HELM RESEED_ARGO RESEED_ARGO_CRDS RESEED_PROMTOOL

.PHONY: servers
servers: $(SERVERS_KUBE) $(SERVERS_HELM) $(SERVERS_ARGO) $(SERVERS_ARGO_CRDS) $(SERVERS_PROMTOOL)

# Every output is written under a name unique to the recipe's shell, then renamed into
# place: an interrupted build leaves nothing that looks finished, and two checkouts
# building the same key at once do not write into one file.

# Every build leaves out the debug information: no DWARF from the compiler (in every package,
# the standard library's too) and neither DWARF nor the symbol table in the link. Nothing here
# runs these binaries under a debugger, and a Go panic's stack trace needs neither. It is
# compile and link work a cold CI run does not wait for: helm with an empty build cache took
# 80 s and 130 CPU-s against 92 s and 149 CPU-s (2 cores, idle machine, 2026-12-05), and its
# binary went from 105 to 75 MiB. Part of every key (build_key).
GO_NODEBUG_GCFLAGS := -gcflags=all=-dwarf=false
GO_NODEBUG_LDFLAGS := -s -w
# $(call go_tool_build,module dir,package,ldflags[,extra go flags[,environment]])
define go_tool_build
@mkdir -p $(@D)
cd $(SERVERS_DIR)/$(1) && $(5) go build $(GO_NODEBUG_GCFLAGS) $(4) -ldflags '$(GO_NODEBUG_LDFLAGS) $(3)' -o $@.$$$$.tmp $(2) && mv -f $@.$$$$.tmp $@
endef

$(KUBE_APISERVER_FILE):
	$(call go_tool_build,kube,k8s.io/kubernetes/cmd/kube-apiserver,$(KUBE_LDFLAGS))

$(ETCD_FILE):
	$(call go_tool_build,etcd,go.etcd.io/etcd/server/v3,)

$(HELM_FILE):
	$(call go_tool_build,helm,helm.sh/helm/v3/cmd/helm,$(HELM_LDFLAGS))

# promtool checks the chart's PrometheusRule and the dashboard's queries (test/chart).
$(PROMTOOL_FILE):
	$(call go_tool_build,promtool,github.com/prometheus/prometheus/cmd/promtool,,$(PROMTOOL_TAGS))

# The module zip lacks two files that Argo's commands need, and the module cache may not
# change (nor overlay): the argo CLI embeds the UI from ui/dist/app (upstream's Makefile puts
# a placeholder there too), and argoexec does not build for Linux without upstream's symlink
# workflow/executor/osspecific/signal_linux.go -> signal_darwin.go, which the zip drops.
# Both go into one writable copy (ARGO_PATCH) that an alternate go.mod points at. The copy
# stays for the next of the three builds, which may come from another make run; it is named
# by the key, and the binaries need it only order-only, since their names carry the key too.
$(ARGO_SRC)/.complete:
	@mkdir -p $(CACHE)/src
	rm -rf $(@D) && cp -R "$(call gomod_dir,argo,$(ARGO_MODULE))" $(@D)
	chmod -R u+w $(@D)
	cd $(@D) && $(ARGO_PATCH)
	cp $(SERVERS_DIR)/argo/go.mod $(ARGO_SRC).mod && cp $(SERVERS_DIR)/argo/go.sum $(ARGO_SRC).sum
	go mod edit -replace=$(ARGO_MODULE)=$(ARGO_SRC) $(ARGO_SRC).mod
	touch $@

# $(call argo_build,command): one of Argo's commands, from the patched copy.
argo_build = $(call go_tool_build,argo,$(ARGO_MODULE)/cmd/$(1),$(ARGO_LDFLAGS),$(ARGO_BUILD_FLAGS) -modfile=$(ARGO_SRC).mod,$(ARGO_BUILD_ENV))

$(ARGO_FILE): | $(ARGO_SRC)/.complete
	$(call argo_build,argo)

$(KUBE_ASSETS)/.complete: | $(KUBE_APISERVER_FILE) $(ETCD_FILE)
	@mkdir -p $(dir $(@D))
	tmp=$(@D).$$$$.tmp && mkdir $$tmp \
	  && ln -s $(KUBE_APISERVER_FILE) $$tmp/kube-apiserver && ln -s $(ETCD_FILE) $$tmp/etcd \
	  && touch $$tmp/.complete && { mv -T $$tmp $(@D) 2>/dev/null || rm -rf $$tmp; } && test -e $@

# Stable names for people (and scripts outside the tests); phony so that going back to
# an older, still cached build relinks.
SERVERS_LINKS := $(BIN)/kube-apiserver $(BIN)/etcd $(BIN)/helm $(BIN)/argo
.PHONY: $(SERVERS_LINKS)
$(BIN)/kube-apiserver: $(KUBE_APISERVER_FILE)
$(BIN)/etcd: $(ETCD_FILE)
$(BIN)/helm: $(HELM_FILE)
$(BIN)/argo: $(ARGO_FILE)
$(SERVERS_LINKS):
	@ln -sfn $(notdir $<) $@

# The full CRDs (with OpenAPI schemas) so that server-side dry-run validates specs;
# the default install's minimal CRDs accept any spec. Each X.yaml gets an X.json
# beside it, which is what the test harness applies (see argo/crdjson).
$(ARGO_CRDS_DIR)/.complete:
	@mkdir -p $(dir $(@D))
	tmp=$(@D).$$$$.tmp && mkdir $$tmp \
	  && install -m 0644 "$(call gomod_dir,argo,$(ARGO_MODULE))"/manifests/base/crds/full/argoproj.io_*.yaml $$tmp/ \
	  && (cd $(SERVERS_DIR)/argo && go run ./crdjson $$tmp) \
	  && touch $$tmp/.complete && { mv -T $$tmp $(@D) 2>/dev/null || rm -rf $$tmp; } && test -e $@
