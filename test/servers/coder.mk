# Coder and the PostgreSQL it runs on, for the coder-admin tests. Included by the top
# Makefile after servers.mk (which defines SERVERS_DIR, gomod_version, go_tool_build).
#
# Coder is built from its Go module through the wrapper in coder/: its go.mod copies the
# replace lines of Coder's own go.mod (replace directives are not inherited) and its go.sum
# starts from Coder's (the checksum database does not know some of Coder's forks). Built
# without the `embed` tag the web UI is a placeholder page; the API is complete. The
# Tailscale omit tags are the ones Coder's scripts/build_go.sh uses.
#
# v2.36.0 is the newest release whose module zip the Go module proxy serves here (v2.38.0
# lists, but its zip is refused).
#
# Measured on a 2-core machine, CGO off, modules already downloaded; other helpers'
# builds and tests shared the cores, so wall times are upper bounds and CPU time is the
# figure that carries over:
#   cold (empty Go build cache)   13 min 15 s of CPU (713 s user + 82 s sys, peak RSS 2.6 GB);
#                                 wall 30 min at load average ~12, 41 min 32 s at 20-30.
#                                 On two idle cores that is about 7 to 9 minutes. 2,686
#                                 packages, against kube-apiserver's 1,948.
#   warm (build cache kept)       42 s (the link of a 190 MB binary)
#   downloading Coder's modules   about 2 min (go mod tidy on an empty module cache)
# Coder then starts on an empty database, migrations included, in 5 to 21 s (load-dependent).
#
# PostgreSQL: the tests run Debian's PostgreSQL 15 server binaries; the test harness runs
# them as `nobody` when the tests run as root (PostgreSQL refuses root).

CODER_MODULE := github.com/coder/coder/v2
CODER_VERSION := $(call gomod_version,coder,$(CODER_MODULE))
CODER_LDFLAGS := -X $(CODER_MODULE)/buildinfo.tag=$(patsubst v%,%,$(CODER_VERSION)) -X $(CODER_MODULE)/buildinfo.agpl=true
CODER_TAGS := ts_omit_aws,ts_omit_bird,ts_omit_tap,ts_omit_kube

ifneq ($(call given,RESEED_CODER,$(BIN)/coder),)
SERVERS_CODER :=
else
RESEED_CODER := $(BIN)/coder
SERVERS_CODER := $(RESEED_CODER)
endif
ifneq ($(call given,RESEED_CODER_PG_BINDIR,/usr/lib/postgresql/15/bin),)
SERVERS_CODER_PG :=
else
RESEED_CODER_PG_BINDIR := /usr/lib/postgresql/15/bin
SERVERS_CODER_PG := coder-postgres
endif
export RESEED_CODER RESEED_CODER_PG_BINDIR

.PHONY: coder-server coder-postgres
coder-server: $(SERVERS_CODER) $(SERVERS_CODER_PG)
servers: coder-server

coder-postgres:
	@if [ ! -x $(RESEED_CODER_PG_BINDIR)/postgres ]; then \
	  echo "PostgreSQL 15 server missing: installing Debian's postgresql-15"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15; \
	fi

# Static, as upstream builds it.
# Named by content (see build_key in servers.mk), never judged by mtime.
CODER_FILE := $(BIN)/coder-$(CODER_VERSION)-$(call build_key,coder,$(CODER_LDFLAGS) $(CODER_TAGS))
$(CODER_FILE): export CGO_ENABLED := 0
$(CODER_FILE):
	$(call go_tool_build,coder,$(CODER_MODULE)/cmd/coder,$(CODER_LDFLAGS),-tags $(CODER_TAGS))

.PHONY: $(BIN)/coder
$(BIN)/coder: $(CODER_FILE)
	@ln -sfn $(notdir $<) $@
