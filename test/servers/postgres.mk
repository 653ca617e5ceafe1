# PostgreSQL for the postgres-bootstrap tests: Debian's postgresql-15 server binaries
# (initdb, postgres; pg_stat_statements ships in the same package). The tests run initdb
# into a temp dir and start the server on a random loopback port, as the `postgres` user
# when they run as root. Its apt-get install time is not measured; initdb + start in the
# tests take 5-7 s (docs/figures.md).
ifneq ($(call given,RESEED_PG_BIN,/usr/lib/postgresql/15/bin),)
SERVERS_POSTGRES :=
else
RESEED_PG_BIN := /usr/lib/postgresql/15/bin
SERVERS_POSTGRES := $(RESEED_PG_BIN)/postgres
endif
export RESEED_PG_BIN

.PHONY: postgres
servers: postgres
postgres: $(SERVERS_POSTGRES)

$(RESEED_PG_BIN)/postgres:
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends postgresql-15
