import * as z from "../core/zod.js";
import { under, type ObjectAccess, type Path } from "../core/access.js";
import type { Dependency } from "../core/spec.js";
import type { ImplicitInput } from "../inputs/implicit.js";
import type { StoreContext } from "./context.js";
import { keyVaultLocation, keyVaultProvider } from "./key-vault/store.js";
import { kubernetesSecretLocation, kubernetesSecretProvider } from "./kubernetes-secret.js";
import type { SecretStore, StoreProvider } from "./store.js";
import { vaultLocation, vaultProvider } from "./vault/store.js";

export { publish, readRecovering, type SecretStore, type StoreProvider } from "./store.js";
export { keyVaultLocation, vaultLocation };
export type { StoreContext } from "./context.js";

// One entry per store; a new store is one module, one line here and one in secretLocation.
// Each entry is type-checked against its own location type where it is defined; the table
// erases that type, which is sound because secretLocation parsed the location by the same key.
const providers = [kubernetesSecretProvider, vaultProvider, keyVaultProvider] as unknown as StoreProvider[];

// Where a kind can read or write secrets; one variant per authority.
export const secretLocation = z.union([kubernetesSecretLocation, vaultLocation, keyVaultLocation]);
export type SecretLocation = z.infer<typeof secretLocation>;

function providerOf(loc: SecretLocation): { provider: StoreProvider; inner: unknown } {
  const provider = providers.find((p) => p.key in loc);
  if (!provider) throw new Error(`no secret store for ${JSON.stringify(Object.keys(loc))}`);
  return { provider, inner: (loc as Record<string, unknown>)[provider.key] };
}

export function openStore(loc: SecretLocation, ctx: StoreContext): SecretStore {
  const { provider, inner } = providerOf(loc);
  return provider.open(inner, ctx);
}

/**
 * The Kubernetes access a secretLocation at `path` of a kind's `with` needs, whichever store
 * it names: each store's own access, under its key. Data, so the chart's Roles come from it too.
 */
export function storeAccess(path: Path, verbs: ObjectAccess["verbs"]): ObjectAccess[] {
  return providers.flatMap((p) => under([...path, p.key], p.access(verbs)));
}

/** The auth material a store reads from the pod, for validate-inputs (C1). */
export function storeImplicitInputs(loc: SecretLocation): ImplicitInput[] {
  const { provider, inner } = providerOf(loc);
  return provider.implicitInputs(inner);
}

/** What wait-deps waits for before a store is used: Vault unsealed and active, Key Vault answering. */
export function storeDependencies(loc: SecretLocation): Dependency[] {
  const { provider, inner } = providerOf(loc);
  return provider.dependencies(inner);
}

/** Why a key name cannot be stored there, or undefined. */
export function keyNameProblem(loc: SecretLocation, key: string): string | undefined {
  return providerOf(loc).provider.keyNameProblem(key);
}

export function describeLocation(loc: SecretLocation, namespace: string): string {
  const { provider, inner } = providerOf(loc);
  return provider.describe(inner, namespace);
}
