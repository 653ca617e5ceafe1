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
# older node on the machine for every recipe below.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

include test/servers/servers.mk
include test/servers/postgres.mk
include test/servers/keycloak.mk
include test/servers/coder.mk
include test/servers/openbao.mk

NODE_DEPS := node_modules/.installed
STEP_SOURCES := $(shell find steps -name '*.ts' -o -name '*.mjs') package-lock.json
TS_NODE := node --loader ts-node/esm --no-warnings
VITEST := vitest run --config test/vitest.config.ts

include release/release.mk
include test/cluster/cluster.mk

.PHONY: help
help:
	@echo "make dev        run the example units on a local API server and print their evidence"
	@echo "make test       typecheck, generated-file check, unit + integration tests on real servers,"
	@echo "                then make e2e"
	@echo "make bench      step cold start and peak memory (median of runs); a 1,000-key secret-sync"
	@echo "make build      bundle the step programs and the CLI into dist/"
	@echo "make generate   regenerate values.schema.json, workflowtemplates/ and cronworkflows/"
	@echo "make servers    build etcd, kube-apiserver, helm, argo, OpenBao and Coder into $(BIN)"
	@echo "make e2e        the template suite in real Argo Workflows on a local single-node cluster"
	@echo "make e2e-kind   the same e2e tests against a kind cluster (a laptop with Docker)"

$(NODE_DEPS): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: $(NODE_DEPS)

dist/.built: $(NODE_DEPS) $(STEP_SOURCES)
	node steps/build.mjs
	@touch $@

.PHONY: build
build: dist/.built

.PHONY: typecheck
typecheck: $(NODE_DEPS)
	tsc --noEmit -p .

# One source of truth: the zod schemas generate values.schema.json (and from it the chart
# README's values table), the chart renders workflowtemplates/ and cronworkflows/.
.PHONY: generate
generate: dist/.built $(SERVERS_HELM)
	node dist/reseed.mjs schema values > charts/reseed/values.schema.json
	node charts/values-table.mjs
	HELM=$(RESEED_HELM) bash charts/render.sh

.PHONY: check-generated
check-generated: generate
	@if [ -n "$$(git status --porcelain --untracked-files=all -- charts workflowtemplates cronworkflows)" ]; then \
	  echo "Generated files are stale; run 'make generate' and commit:"; \
	  git status --short -- charts workflowtemplates cronworkflows; \
	  git --no-pager diff --stat -- charts workflowtemplates cronworkflows; \
	  exit 1; \
	fi

.PHONY: lint
lint: dist/.built
	node dist/reseed.mjs lint charts/reseed/values.yaml charts/reseed/examples/*.yaml

# The e2e suite runs even when the others failed, so one CI run reports both.
.PHONY: test
test: $(NODE_DEPS) servers dist/.built
	$(MAKE) --no-print-directory typecheck
	$(MAKE) --no-print-directory check-generated
	$(MAKE) --no-print-directory lint
	$(MAKE) --no-print-directory release-check
	status=0; node test/run-vitest.mjs $(VITEST) || status=$$?; \
	$(MAKE) --no-print-directory e2e || status=$$?; \
	exit $$status

.PHONY: test-unit
test-unit: $(NODE_DEPS)
	$(VITEST) --project unit

.PHONY: dev
dev: $(NODE_DEPS) $(SERVERS_KUBE) dist/.built
	CACHE=$(CACHE) $(TS_NODE) test/harness/dev.ts charts/reseed/examples/values-local.yaml

# Forget the local control plane's state: the next make dev seeds from scratch.
.PHONY: dev-reset
dev-reset:
	rm -rf $(CACHE)/dev

.PHONY: bench
bench: $(NODE_DEPS) $(SERVERS_KUBE) dist/.built
	$(TS_NODE) test/bench/steps.ts
	$(TS_NODE) test/bench/sync.ts

.PHONY: clean
clean:
	rm -rf dist node_modules

# Removes the built servers too; the next run rebuilds them (minutes).
.PHONY: distclean
distclean: clean
	rm -rf $(CACHE)
