import { z } from "zod";
import type { KindContext, PolicyRule } from "../core/kind.js";
import { kubernetesSecretLocation, kubernetesSecretPermissions, kubernetesSecretStore } from "./kubernetes-secret.js";
import type { SecretStore } from "./store.js";

export { publish, type SecretStore } from "./store.js";

// Where a kind can read or write secrets; one variant per authority. Vault and Key Vault
// join here as variants of their own.
export const secretLocation = z.union([kubernetesSecretLocation]);
export type SecretLocation = z.infer<typeof secretLocation>;

export function openStore(loc: SecretLocation, ctx: KindContext): SecretStore {
  return kubernetesSecretStore(loc.kubernetesSecret, ctx);
}

/** The RBAC for a store, known without a context (the chart and tests derive Roles from it). */
export function storePermissions(loc: SecretLocation, namespace: string): PolicyRule[] {
  return kubernetesSecretPermissions(loc.kubernetesSecret, namespace);
}
