# Shipping reseed: the five images, the chart and the npm package, all of one version.
# Included by the top Makefile before test/cluster/cluster.mk, which builds the e2e suite's
# step images with image_build below. Every command .github/workflows/*.yml runs is a target
# here or in the top Makefile.
#
#   make images                 the four step images and the cli image from steps/Dockerfile,
#                               tagged $(REGISTRY)/reseed-<target>:$(VERSION), with the builder
#                               found (docker buildx, podman or buildah; BUILDER= overrides)
#   make images BASES=local     the same offline (buildah): the local Node 24 base of the e2e
#                               suite and the bundles of `make build` instead of upstream bases
#   make push REGISTRY=…        push them; prints and writes their digests (see PUSHED below)
#   make release-check          what make test proves here: images (BASES=local), make push to
#                               a real registry on loopback, the packed npm package, the chart
#                               package, the workflows (actionlint)
#
# docker buildx cannot load a multi-platform image locally, so with docker `make push` builds
# and pushes in one step, for $(PLATFORMS), with SBOM and provenance attestations.

# One version: package.json's. Chart.yaml's version and appVersion must equal it (checked by
# test/unit/version.test.ts); the chart's image tag defaults to its appVersion.
VERSION := $(shell node -p 'require("./package.json").version')
# The chart's default registry is the default here too, so `make images` builds what the
# chart runs unless told otherwise.
DEFAULT_REGISTRY := $(shell awk '$$1 == "registry:" { print $$2; exit }' charts/reseed/values.yaml)
REGISTRY ?= $(DEFAULT_REGISTRY)
IMAGE_TARGETS := validate-inputs wait-deps ensure-state verify cli
PLATFORMS ?= linux/amd64,linux/arm64
BASES ?= upstream
RELEASE_OUT := dist/release
PUSHED := $(RELEASE_OUT)/images.txt

# The first builder the machine has, looked up once and only when a recipe needs it (a plain
# docker CLI without buildx or without a reachable engine does not count).
BUILDER ?= $(eval BUILDER := $(shell \
  if docker buildx version >/dev/null 2>&1 && docker info >/dev/null 2>&1; then echo docker; \
  elif command -v podman >/dev/null 2>&1; then echo podman; \
  elif command -v buildah >/dev/null 2>&1; then echo buildah; fi))$(BUILDER)

# $(call image_build,builder,target,reference,bases): one image from steps/Dockerfile. The
# e2e suite's step images (cluster.mk) are built with this too, with buildah and local bases.
image_build = $(IMAGE_BUILD_$(1)) -f steps/Dockerfile --target $(2) -t $(3) $(IMAGE_BASES_$(4)) .
IMAGE_BUILD_docker = docker buildx build --load
IMAGE_BUILD_podman = podman build
IMAGE_BUILD_buildah = $(BUILDAH) bud --quiet --isolation chroot --layers
IMAGE_BASES_upstream :=
IMAGE_BASES_local = --pull=never --build-arg BUNDLES=prebuilt \
  --build-arg BUILD_BASE=$(NODE_BASE_REF) --build-arg RUNTIME_BASE=$(NODE_BASE_REF)
# The local base lives in the project's buildah storage (cluster.mk), so only buildah sees it.
IMAGE_DEPS_upstream :=
IMAGE_DEPS_local := cluster-deps dist/.built node-base

.PHONY: images
images: $(IMAGE_DEPS_$(BASES))
	@case "$(BASES)" in upstream|local) ;; *) echo "images: BASES must be upstream or local, not '$(BASES)'" >&2; exit 2;; esac
	@if [ -z "$(BUILDER)" ]; then echo "images: no image builder found: install docker with buildx, podman or buildah (or set BUILDER=)" >&2; exit 2; fi
	@if [ "$(BASES)" = local ] && [ "$(BUILDER)" != buildah ]; then echo "images: BASES=local needs BUILDER=buildah (the local Node base is in the project's buildah storage), not $(BUILDER)" >&2; exit 2; fi
	@echo "images: building $(IMAGE_TARGETS) $(VERSION) with $(BUILDER) ($(BASES) bases)"
	@for t in $(IMAGE_TARGETS); do \
	  echo "images: $(REGISTRY)/reseed-$$t:$(VERSION)"; \
	  $(call image_build,$(BUILDER),$$t,$(REGISTRY)/reseed-$$t:$(VERSION),$(BASES)) >/dev/null; \
	done

# `repository@sha256:…` per image, one a line, in $(PUSHED); the chart values that pin the
# step images (image.registry + image.digests) beside it, for `helm install -f`.
# The registry must be named (REGISTRY=…): the default is the project's own. PUSH_FLAGS go to
# podman/buildah push (e.g. --tls-verify=false for a registry on localhost).
.PHONY: push
push:
	@if [ "$(origin REGISTRY)" = file ]; then \
	  echo "push: name the registry to push to: make push REGISTRY=registry.example.com/team" >&2; exit 2; fi
	@if [ "$(BUILDER)" != docker ]; then $(MAKE) --no-print-directory images; fi
	@mkdir -p $(RELEASE_OUT) && : > $(PUSHED).tmp
	@for t in $(IMAGE_TARGETS); do \
	  ref=$(REGISTRY)/reseed-$$t:$(VERSION); digest=$(RELEASE_OUT)/$$t.digest; rm -f $$digest; \
	  case "$(BUILDER)" in \
	    docker) docker buildx build -f steps/Dockerfile --target $$t -t $$ref --platform $(PLATFORMS) \
	              --sbom=true --provenance=mode=max --push --metadata-file $(RELEASE_OUT)/$$t.json . >&2; \
	            node -p "require('./$(RELEASE_OUT)/$$t.json')['containerimage.digest']" > $$digest ;; \
	    podman) podman push $(PUSH_FLAGS) --digestfile $$digest $$ref docker://$$ref >&2 ;; \
	    buildah) $(BUILDAH) push $(PUSH_FLAGS) --digestfile $$digest $$ref docker://$$ref >&2 ;; \
	    *) echo "push: no image builder found: install docker with buildx, podman or buildah (or set BUILDER=)" >&2; exit 2 ;; \
	  esac; \
	  grep -qE '^sha256:[0-9a-f]{64}$$' $$digest || { echo "push: $$ref: no digest from $(BUILDER)" >&2; exit 1; }; \
	  echo "$(REGISTRY)/reseed-$$t@$$(cat $$digest)" | tee -a $(PUSHED).tmp; \
	done
	@mv -f $(PUSHED).tmp $(PUSHED)
	@{ echo "image:"; echo "  registry: $(REGISTRY)"; echo "  digests:"; \
	  grep -v '/reseed-cli@' $(PUSHED) | sed -E 's|^.*/reseed-([a-z-]+)@(sha256:[0-9a-f]+)$$|    \1: "\2"|'; \
	} > $(RELEASE_OUT)/values-images.yaml
	@echo "push: digests in $(PUSHED); chart values pinning them in $(RELEASE_OUT)/values-images.yaml"

# Keyless (Fulcio certificate from the CI job's OIDC token, Rekor transparency log): the
# signature names the workflow that built the image.
.PHONY: sign
sign:
	@test -s $(PUSHED) || { echo "sign: $(PUSHED) is missing; run make push first" >&2; exit 2; }
	while read -r ref; do cosign sign --yes "$$ref"; done < $(PUSHED)

# ---------------------------------------------------------------- chart

CHART_REGISTRY ?= oci://$(REGISTRY)/charts
CHART_PACKAGE := $(RELEASE_OUT)/reseed-$(VERSION).tgz

.PHONY: chart-package chart-push
chart-package: $(SERVERS_HELM)
	@mkdir -p $(RELEASE_OUT)
	$(RESEED_HELM) package charts/reseed --destination $(RELEASE_OUT)
	@test -s $(CHART_PACKAGE) || { echo "chart-package: expected $(CHART_PACKAGE): Chart.yaml's version is not $(VERSION)" >&2; exit 1; }
chart-push: chart-package
	$(RESEED_HELM) push $(CHART_PACKAGE) $(CHART_REGISTRY)

# The CI job's token, read from the environment and given on stdin: never on a command line.
.PHONY: registry-login
registry-login: $(SERVERS_HELM)
	@: "$${REGISTRY_USER:?registry-login needs REGISTRY_USER} $${REGISTRY_PASSWORD:?and REGISTRY_PASSWORD}"
	@host=$(firstword $(subst /, ,$(REGISTRY))); \
	printf '%s' "$$REGISTRY_PASSWORD" | docker login "$$host" --username "$$REGISTRY_USER" --password-stdin; \
	printf '%s' "$$REGISTRY_PASSWORD" | $(RESEED_HELM) registry login "$$host" --username "$$REGISTRY_USER" --password-stdin

# ---------------------------------------------------------------- npm package

NPM_PACKAGE := $(RELEASE_OUT)/npm/reseed-$(VERSION).tgz
.PHONY: npm-pack npm-check
npm-pack: dist/.built
	@mkdir -p $(dir $(NPM_PACKAGE))
	npm pack --silent --pack-destination $(dir $(NPM_PACKAGE)) >/dev/null
# The packed tarball, installed into an empty directory with nothing else, runs `reseed lint`.
npm-check: npm-pack
	release/npm-check.sh $(NPM_PACKAGE) charts/reseed/examples/values-prod.yaml
# With provenance (the CI job's OIDC token); the registry token comes from NODE_AUTH_TOKEN.
.PHONY: npm-publish
npm-publish: npm-check
	npm publish $(NPM_PACKAGE) --provenance --access public

# ---------------------------------------------------------------- GitHub release

# Moves every place that names the version (test/unit/version.test.ts lists them) at once.
.PHONY: set-version
set-version:
	@[ -n "$(V)" ] || { echo "set-version: make set-version V=1.2.3" >&2; exit 2; }
	npm version --no-git-tag-version --allow-same-version $(V) >/dev/null
	sed -i -E 's/^(version|appVersion): .*/\1: "$(V)"/' charts/reseed/Chart.yaml
	sed -i -E 's|(reseed-cli):[^ ]+ lint|\1:$(V) lint|; s|(reseed)@[^ ]+ lint|\1@$(V) lint|; s|(rev: v)[0-9][^ ]*|\1$(V)|' .pre-commit-hooks.yaml

# A release is cut from the tag v<version>; any other tag is a mistake caught before a push.
.PHONY: release-tag-check
release-tag-check:
	@[ "$(TAG)" = "v$(VERSION)" ] || { echo "release-tag-check: tag '$(TAG)' is not v$(VERSION) (package.json); bump with make set-version" >&2; exit 2; }

.PHONY: github-release
github-release:
	@test -s $(PUSHED) || { echo "github-release: $(PUSHED) is missing; run make push first" >&2; exit 2; }
	{ echo "Images (pin by digest; values-images.yaml pins the chart's step images):"; echo; \
	  sed 's/^/    /' $(PUSHED); echo; \
	  echo "Chart: helm install reseed $(CHART_REGISTRY)/reseed --version $(VERSION) -f values-images.yaml"; \
	  echo "CLI: npx reseed@$(VERSION) lint <values.yaml>"; } > $(RELEASE_OUT)/notes.md
	gh release create v$(VERSION) --title "reseed $(VERSION)" --notes-file $(RELEASE_OUT)/notes.md \
	  $(PUSHED) $(RELEASE_OUT)/values-images.yaml $(CHART_PACKAGE)

# ---------------------------------------------------------------- checks

# Built from its Go module like the servers (test/servers/actionlint/go.mod pins it).
ACTIONLINT_VERSION := $(call gomod_version,actionlint,github.com/rhysd/actionlint)
ACTIONLINT_LDFLAGS := -X github.com/rhysd/actionlint.version=$(ACTIONLINT_VERSION)
ACTIONLINT := $(BIN)/actionlint-$(ACTIONLINT_VERSION)-$(call build_key,actionlint,$(ACTIONLINT_LDFLAGS))
$(ACTIONLINT):
	$(call go_tool_build,actionlint,github.com/rhysd/actionlint/cmd/actionlint,$(ACTIONLINT_LDFLAGS))

# Each `run:` is one make command, so shellcheck would add nothing; left off, the result is the
# same on every machine whether or not shellcheck is installed.
.PHONY: actionlint
actionlint: $(ACTIONLINT)
	$(ACTIONLINT) -no-color -shellcheck= -pyflakes= .github/workflows/ci.yml .github/workflows/release.yml
	@echo "actionlint $(ACTIONLINT_VERSION): .github/workflows/ci.yml and release.yml pass"

# The CNCF distribution registry, a real one for `make push` to push to (push-check.sh).
REGISTRY_SERVER_VERSION := $(call gomod_version,registry,github.com/distribution/distribution/v3)
REGISTRY_SERVER := $(BIN)/registry-$(REGISTRY_SERVER_VERSION)-$(call build_key,registry,)
$(REGISTRY_SERVER):
	$(call go_tool_build,registry,github.com/distribution/distribution/v3/cmd/registry,)

.PHONY: release-check
release-check: $(REGISTRY_SERVER)
	$(MAKE) --no-print-directory images BASES=local
	release/images-check.sh "$(BUILDAH)" $(DEFAULT_REGISTRY) $(VERSION) $(IMAGE_TARGETS)
	release/push-check.sh "$(BUILDAH)" $(REGISTRY_SERVER) $(VERSION) $(IMAGE_TARGETS)
	$(MAKE) --no-print-directory npm-check
	$(MAKE) --no-print-directory chart-package
	$(MAKE) --no-print-directory actionlint
