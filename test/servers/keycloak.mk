# Keycloak for the keycloak-client-secret tests: the Quarkus distribution from Maven
# Central, unpacked into the cache and built once (`kc.sh build`, Quarkus augmentation) for
# an in-memory H2 database, so every test start is `kc.sh start --optimized` (with a local
# cache) and skips the minute-long augmentation that `start-dev` repeats whenever its
# build options change. Java 17 (the machine's default) runs it.
#
# Measured on a 2-core machine:
#   fetch (mvn dependency:copy, empty ~/.m2)   22 s
#   unzip                                       3 s
#   kc.sh build                                 66 s idle, 93-138 s with other builds running
#   start --optimized to ready (each test run)  95-99 s with other builds running (load 20+)
KEYCLOAK_VERSION := 26.5.6
KEYCLOAK_DIR := $(CACHE)/keycloak-$(KEYCLOAK_VERSION)

ifneq ($(call given,RESEED_KEYCLOAK_HOME,$(KEYCLOAK_DIR)),)
SERVERS_KEYCLOAK :=
else
RESEED_KEYCLOAK_HOME := $(KEYCLOAK_DIR)
SERVERS_KEYCLOAK := $(KEYCLOAK_DIR)/.built
endif
export RESEED_KEYCLOAK_HOME

.PHONY: keycloak
servers: keycloak
keycloak: $(SERVERS_KEYCLOAK)

$(KEYCLOAK_DIR)/.built:
	@command -v mvn >/dev/null && command -v unzip >/dev/null || { apt-get update && apt-get install -y --no-install-recommends maven unzip; }
	rm -rf $(KEYCLOAK_DIR) $(KEYCLOAK_DIR).tmp && mkdir -p $(KEYCLOAK_DIR).tmp
	mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
	  -Dartifact=org.keycloak:keycloak-quarkus-dist:$(KEYCLOAK_VERSION):zip -DoutputDirectory=$(KEYCLOAK_DIR).tmp
	cd $(KEYCLOAK_DIR).tmp && unzip -q keycloak-quarkus-dist-$(KEYCLOAK_VERSION).zip && rm keycloak-quarkus-dist-$(KEYCLOAK_VERSION).zip
	mv $(KEYCLOAK_DIR).tmp/keycloak-$(KEYCLOAK_VERSION) $(KEYCLOAK_DIR) && rm -rf $(KEYCLOAK_DIR).tmp
	$(KEYCLOAK_DIR)/bin/kc.sh build --db=dev-mem
	touch $@
