import type { KindRegistry, UnitKind } from "./kind.js";
import { azureFederatedCredential } from "./azure-federated-credential/index.js";
import { coderAdmin } from "./coder-admin/index.js";
import { generatedSecret } from "./generated-secret/index.js";
import { keycloakClientSecret } from "./keycloak-client-secret/index.js";
import { operatorReady } from "./operator-ready/index.js";
import { postgresBootstrap } from "./postgres-bootstrap/index.js";
import { runtimeFacts } from "./runtime-facts/index.js";
import { secretSync } from "./secret-sync/index.js";

// Every unit kind, registered in this one place. Adding a kind is a folder and a line here;
// the conformance suite (test/conformance) runs against every entry.
export const kinds: UnitKind<unknown>[] = [
  generatedSecret,
  runtimeFacts,
  operatorReady,
  keycloakClientSecret,
  postgresBootstrap,
  azureFederatedCredential,
  coderAdmin,
  secretSync,
];

export const registry: KindRegistry = {
  get: (name) => kinds.find((k) => k.kind === name),
  names: () => kinds.map((k) => k.kind),
};
