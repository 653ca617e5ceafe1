# reseed — the two commands a new user needs:
#   make dev    a local control plane with the example units seeded, and their evidence
#   make test   every test, against real servers
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

# Built servers live outside the clone, so a fresh clone on the same machine reuses them.
CACHE ?= $(HOME)/.cache/reseed
BIN := $(CACHE)/bin
# Node 24 comes from the npm registry (the `node` devDependency); it must win over any
# older node on the machine for every recipe below. npm ci itself must already run on it:
# .npmrc's engine-strict makes npm stop on an older Node. So the same `node` package, at the
# version package-lock.json pins, is first installed on its own into the cache (the one
# step that runs on whatever node the machine has), and put on PATH behind node_modules/.bin.
NODE_VERSION := $(shell awk '/"node_modules\/node": \{/ { found = 1 } found && /"version"/ { gsub(/[",]/, "", $$2); print $$2; exit }' package-lock.json)
NODE_BOOT := $(CACHE)/node-$(NODE_VERSION)
export PATH := $(CURDIR)/node_modules/.bin:$(NODE_BOOT)/node_modules/.bin:$(PATH)

include test/servers/servers.mk
include test/servers/postgres.mk
include test/servers/keycloak.mk
include test/servers/coder.mk
include test/servers/openbao.mk
include test/servers/argocd.mk
include test/servers/versitygw.mk
include test/servers/external-secrets.mk

NODE_DEPS := node_modules/.installed
# What the bundles are built from: every step source but the kinds' conformance cases, which
# are test code kept in the kind's folder (the import-boundary lint keeps them out of the bundles).
STEP_SOURCES := $(sort $(shell find steps \( -name '*.ts' -o -name '*.mjs' \) ! -name conformance.ts) \
  steps/kinds/registry.ts) package-lock.json
TS_NODE := node --loader ts-node/esm --no-warnings
VITEST := vitest run --config test/vitest.config.ts

include release/release.mk
include test/cluster/cluster.mk

.PHONY: help
help:
	@echo "Using reseed:"
	@echo "  make dev              run the example units on a local API server and print their evidence"
	@echo "  make dev-reset        forget make dev's state: the next make dev seeds from scratch"
	@echo "  make lint             reseed lint the chart's values files"
	@echo "Contributing:"
	@echo "  make test             typecheck, generated-file check, lint, lint-code, unit + integration tests on"
	@echo "                        real servers, then make e2e (what .ci/run runs after make dev)"
	@echo "  make test-fast        the inner loop, no servers: unit and chart tests (helm, argo lint), lint, lint-code"
	@echo "  make test-unit        the unit tests only (no servers)"
	@echo "  make typecheck        tsc --noEmit"
	@echo "  make lint-code        eslint (with the import-boundary rule between layers) and prettier --check"
	@echo "  make format           prettier --write the tree (printWidth 120)"
	@echo "  make generate         regenerate the kind registry, values.schema.json, _kinds.tpl, workflowtemplates/"
	@echo "                        and cronworkflows/"
	@echo "  make check-generated  fail if the generated files are stale"
	@echo "  make build            bundle the step programs and the CLI into dist/"
	@echo "  make deps             Node 24 and the npm packages (npm ci)"
	@echo "  make bench            step cold start and peak memory (median of runs); a 1,000-key secret-sync; masking cost"
	@echo "  make bench-peers      reseed's secret-sync side by side with External Secrets Operator, same servers, one run"
	@echo "                        (builds ESO with make eso, a bench-only tool; RESEED_BENCH_PEERS_WINDOW_S=120 for a quick run)"
	@echo "  make servers          build etcd, kube-apiserver, helm, argo, OpenBao, Coder, Keycloak into $(BIN)"
	@echo "  make images           the five release images (four steps + cli) with the detected builder;"
	@echo "                        BASES=local builds them offline with buildah"
	@echo "  make release-check    images pushed to a local registry, the npm package, the chart, actionlint"
	@echo "  make cluster-images   the OCI archives the local cluster runs"
	@echo "  make e2e              the template suite in real Argo Workflows on a local single-node cluster"
	@echo "  make e2e-bench        what an unchanged run costs on that cluster"
	@echo "  make e2e-kind         the same e2e tests against a kind cluster (a laptop with Docker)"
	@echo "  make cluster-up       the local cluster, left running; make cluster-env prints its KUBECONFIG;"
	@echo "                        make cluster-down stops it"
	@echo "Releasing (docs/releasing.md):"
	@echo "  make push REGISTRY=…  push the images and print their digests; also sign, chart-package,"
	@echo "                        chart-push, npm-pack, npm-publish, set-version, github-release"
	@echo "  make clean            remove dist/ and node_modules/; make distclean also the built servers"

$(NODE_BOOT)/.installed:
	tmp=$(@D).$$$$.tmp && mkdir -p $$tmp \
	  && (cd $$tmp && npm install --no-save --no-package-lock --no-audit --no-fund node@$(NODE_VERSION) >/dev/null) \
	  && touch $$tmp/.installed && { mv -T $$tmp $(@D) 2>/dev/null || rm -rf $$tmp; } && test -e $@

$(NODE_DEPS): package.json package-lock.json .npmrc | $(NODE_BOOT)/.installed
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: $(NODE_DEPS)

dist/.built: $(NODE_DEPS) $(STEP_SOURCES)
	node steps/build.mjs
	@touch $@

# The kind registry lists the folders of steps/kinds: a new folder is a new kind.
steps/kinds/registry.ts: steps/kinds/registry.mjs $(wildcard steps/kinds/*/index.ts) | $(NODE_BOOT)/.installed
	node steps/kinds/registry.mjs > $@

.PHONY: build
build: dist/.built

.PHONY: typecheck
typecheck: $(NODE_DEPS)
	tsc --noEmit -p .

# One source of truth: the zod schemas generate values.schema.json (and from it the chart
# README's values table), the kinds' access and inputs declarations the chart's _kinds.tpl,
# the kind registry the README's kinds table, and the chart renders workflowtemplates/ and
# cronworkflows/.
.PHONY: generate
generate: steps/kinds/registry.ts dist/.built $(SERVERS_HELM)
	node steps/kinds/registry.mjs > steps/kinds/registry.ts
	node dist/reseed.mjs schema values > charts/reseed/values.schema.json
	node dist/reseed.mjs schema chart-kinds > charts/reseed/templates/_kinds.tpl
	node charts/values-table.mjs
	node docs/kinds-table.mjs
	HELM=$(RESEED_HELM) bash charts/render.sh

.PHONY: check-generated
GENERATED := charts workflowtemplates cronworkflows steps/kinds/registry.ts README.md
check-generated: generate
	@if [ -n "$$(git status --porcelain --untracked-files=all -- $(GENERATED))" ]; then \
	  echo "Generated files are stale; run 'make generate' and commit:"; \
	  git status --short -- $(GENERATED); \
	  git --no-pager diff --stat -- $(GENERATED); \
	  exit 1; \
	fi

.PHONY: lint
lint: dist/.built
	node dist/reseed.mjs lint charts/reseed/values.yaml charts/reseed/examples/*.yaml

# The code itself: eslint (typescript-eslint, and the layer rule: each layer of steps/ imports
# only the ones below it, eslint.config.mjs) and prettier's formatting (make format writes it).
.PHONY: lint-code
lint-code: $(NODE_DEPS)
	eslint .
	prettier --check --log-level warn .

.PHONY: format
format: $(NODE_DEPS)
	prettier --write --log-level warn .

# The e2e suite and the other tests each run even when the other failed (or did not build), so
# one CI run reports both. The e2e suite mostly waits (on pods, on `* * * * *` ticks), so it
# runs beside the rest: first what it builds (cluster binaries, Argo CD, versitygw, images:
# about 20 CPU-minutes cold, nothing warm, and the servers it shares with the other tests), then
# the suite on its cluster while the other servers build (niced, so its runs keep their pace)
# and the other tests run. Its log is printed when both are done. The servers are built by this
# recipe, not as a prerequisite: two makes building one target at once would race, and
# e2e-deps has built the shared ones before the suite starts. release-check goes before the
# suite: its `npm pack` rebuilds dist/, which the suite runs.
.PHONY: test
test: $(NODE_DEPS) dist/.built
	$(MAKE) --no-print-directory typecheck
	$(MAKE) --no-print-directory check-generated
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory lint-code
	$(MAKE) --no-print-directory release-check
	@mkdir -p $(CACHE)
	status=0; e2e=; t=$$(date +%s); \
	if $(MAKE) --no-print-directory e2e-deps; then \
	  $(MAKE) --no-print-directory e2e > $(CACHE)/e2e.log 2>&1 & e2e=$$!; \
	  echo "test: e2e-deps took $$(( $$(date +%s) - t ))s; the e2e suite runs beside the rest, its log printed when it is done"; \
	else status=1; echo "test: what the e2e suite needs did not build: it does not run"; fi; \
	t=$$(date +%s); \
	if nice -n 10 $(MAKE) --no-print-directory servers; then \
	  node test/run-vitest.mjs $(VITEST) || status=$$?; \
	else status=1; echo "test: the servers did not build: the other tests did not run"; fi; \
	echo "test: the servers and the other tests took $$(( $$(date +%s) - t ))s"; \
	if [ -n "$$e2e" ]; then \
	  e2e_status=0; wait $$e2e || e2e_status=$$?; \
	  echo "test: the e2e suite: exit $$e2e_status after $$(( $$(date +%s) - t ))s; its log:"; \
	  cat $(CACHE)/e2e.log; \
	  [ $$e2e_status -eq 0 ] || status=$$e2e_status; \
	fi; \
	exit $$status

.PHONY: test-unit
test-unit: $(NODE_DEPS) dist/.built
	$(VITEST) --project unit

# The inner loop: what needs no server — the unit tests, the chart rendered by the real helm and
# linted by the argo CLI (both built once into the cache), reseed lint of the values files, and
# eslint + prettier on the code. The chart's monitoring test needs promtool, whose cold build
# takes minutes: it runs in make test, which builds every server first, and not here.
.PHONY: test-fast
test-fast: $(NODE_DEPS) dist/.built $(SERVERS_HELM) $(SERVERS_ARGO)
	$(VITEST) --project unit --project chart --exclude test/chart/monitoring.test.ts
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory lint-code

.PHONY: dev
# Everything test/harness/dev.ts uses: the API server, the Argo CRDs it installs, and helm,
# which renders the chart. A fresh machine has none of them (.ci/run proves it each run).
dev: $(NODE_DEPS) $(SERVERS_KUBE) $(SERVERS_HELM) $(SERVERS_ARGO_CRDS) dist/.built
	CACHE=$(CACHE) $(TS_NODE) test/harness/dev.ts charts/reseed/examples/values-local.yaml

# Forget the local control plane's state: the next make dev seeds from scratch.
.PHONY: dev-reset
dev-reset:
	rm -rf $(CACHE)/dev

.PHONY: bench
bench: $(NODE_DEPS) $(SERVERS_KUBE) dist/.built
	$(TS_NODE) test/bench/steps.ts
	$(TS_NODE) test/bench/sync.ts
	node --expose-gc --loader ts-node/esm --no-warnings test/bench/redact.ts

# RESEED_BENCH_PEERS_WINDOW_S shortens the steady window (600 s) for a quick run;
# RESEED_BENCH_PEERS_INTERVAL_S sets the schedule and refreshInterval (60 s);
# RESEED_BENCH_PEERS_KEYS the number of keys synced (1000).
.PHONY: bench-peers
bench-peers: $(NODE_DEPS) $(SERVERS_KUBE) $(SERVERS_BAO) $(SERVERS_ESO) $(SERVERS_ESO_CRDS) dist/.built
	$(TS_NODE) test/bench/peers.ts

.PHONY: clean
clean:
	rm -rf dist node_modules

# Removes the built servers too; the next run rebuilds them (minutes).
.PHONY: distclean
distclean: clean
	rm -rf $(CACHE)
