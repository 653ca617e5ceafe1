// Conformance case of keycloak-client-secret (test code, run by test/conformance/conformance.test.ts),
// against the real Keycloak, whose admin events count the writes.
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { KeycloakTestAdmin } from "../../../test/harness/keycloak-admin.js";
import type { ConformanceCase, WriteCounter } from "../../../test/conformance/cases.js";

/** Keycloak generates the client secret; the unit signs in as an extractor client of its own. */
function keycloakClientSecretCase(): ConformanceCase {
  const realm = "conformance";
  const extractorSecret = `extractor-${randomBytes(12).toString("hex")}`;
  let kc: KeycloakTestAdmin | undefined;
  const keycloak = () => (kc ??= new KeycloakTestAdmin(inject("keycloak")));
  let counter: WriteCounter | undefined;
  const writes = () => (counter ??= keycloak().writeCounter([realm, "master"]));
  return {
    servers: async () => {
      await keycloak().enableAdminEvents("master");
      await keycloak().createRealm(realm);
      await keycloak().createExtractor(realm, "reseed-extractor", extractorSecret);
      await keycloak().createClient(realm, "app");
    },
    authorityWrites: { mark: () => writes().mark(), since: (m) => writes().since(m) },
    spec: () => ({
      pattern: "extraction",
      inputs: { extractorSecret: { secretKeyRef: { name: "keycloak-extractor", key: "client-secret" } } },
      ensure: {
        kind: "keycloak-client-secret",
        with: {
          url: keycloak().info.url,
          realm,
          clientId: "app",
          auth: { clientId: "reseed-extractor", clientSecret: { input: "extractorSecret" } },
          sink: { kubernetesSecret: { name: "app-oidc" } },
          clientIdKey: "client-id",
        },
      },
    }),
    setup: (admin, ns) => admin.putSecret(ns, "keycloak-extractor", { "client-secret": extractorSecret }),
    removeInput: { extractorSecret: (admin, ns) => admin.deleteSecret(ns, "keycloak-extractor") },
    deleteState: (admin, ns) => admin.deleteSecret(ns, "app-oidc"),
    writtenSecrets: async () => [await keycloak().clientSecret(realm, "app"), extractorSecret],
  };
}

export const conformance = keycloakClientSecretCase();
