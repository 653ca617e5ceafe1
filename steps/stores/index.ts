import { z } from "zod";
import type { PolicyRule } from "../core/kind.js";
import type { Dependency } from "../core/spec.js";
import type { ImplicitInput } from "../inputs/implicit.js";
import type { StoreContext } from "./context.js";
import { workloadIdentityInputs } from "./key-vault/connection.js";
import { keyVaultName } from "./key-vault/schema.js";
import { keyVaultLocation, keyVaultStore } from "./key-vault/store.js";
import { kubernetesSecretLocation, kubernetesSecretPermissions, kubernetesSecretStore } from "./kubernetes-secret.js";
import type { SecretStore } from "./store.js";
import { vaultImplicitInputs } from "./vault/connection.js";
import { vaultLocation, vaultStore } from "./vault/store.js";

export { publish, readRecovering, type SecretStore } from "./store.js";
export { keyVaultLocation, vaultLocation };
export type { StoreContext } from "./context.js";

// Where a kind can read or write secrets; one variant per authority.
export const secretLocation = z.union([kubernetesSecretLocation, vaultLocation, keyVaultLocation]);
export type SecretLocation = z.infer<typeof secretLocation>;

export function openStore(loc: SecretLocation, ctx: StoreContext): SecretStore {
  if ("vault" in loc) return vaultStore(loc.vault, ctx);
  if ("keyVault" in loc) return keyVaultStore(loc.keyVault, ctx);
  return kubernetesSecretStore(loc.kubernetesSecret, ctx);
}

/** The RBAC for a store, known without a context (the chart and tests derive Roles from it). Vault and Key Vault need none. */
export function storePermissions(loc: SecretLocation, namespace: string, access: "read" | "write" = "write"): PolicyRule[] {
  return "kubernetesSecret" in loc ? kubernetesSecretPermissions(loc.kubernetesSecret, namespace, access) : [];
}

/** The auth material a store reads from the pod, for validate-inputs (C1). */
export function storeImplicitInputs(loc: SecretLocation): ImplicitInput[] {
  if ("vault" in loc) return vaultImplicitInputs(loc.vault.auth);
  if ("keyVault" in loc) return workloadIdentityInputs();
  return [];
}

/** What wait-deps waits for before a store is used: Vault unsealed and active, Key Vault answering. */
export function storeDependencies(loc: SecretLocation): Dependency[] {
  if ("vault" in loc) return [{ vault: { address: loc.vault.address } }];
  // An unauthenticated request is answered 401 with the auth challenge: the vault is up.
  if ("keyVault" in loc) return [{ http: { url: `${loc.keyVault.url.replace(/\/$/, "")}/secrets?api-version=${loc.keyVault.apiVersion ?? "7.4"}`, expectStatus: [401] } }];
  return [];
}

/** Why a key name cannot be stored there, or undefined. Key Vault secret names allow only letters, digits and dashes. */
export function keyNameProblem(loc: SecretLocation, key: string): string | undefined {
  if ("keyVault" in loc && !keyVaultName.test(key)) return `"${key}" is not a Key Vault secret name (1–127 letters, digits and dashes)`;
  if ("kubernetesSecret" in loc && !/^[-._a-zA-Z0-9]+$/.test(key)) return `"${key}" is not a Kubernetes Secret key`;
  return undefined;
}

export function describeLocation(loc: SecretLocation, namespace: string): string {
  if ("vault" in loc) return `Vault ${loc.vault.address}${loc.vault.namespace ? ` namespace ${loc.vault.namespace}` : ""} ${loc.vault.mount}/${loc.vault.path}`;
  if ("keyVault" in loc) return `Key Vault ${loc.keyVault.url}`;
  return `Kubernetes Secret ${loc.kubernetesSecret.namespace ?? namespace}/${loc.kubernetesSecret.name}`;
}
