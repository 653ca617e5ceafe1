import * as z from "../../core/zod.js";
import { mapLimit } from "../../core/concurrency.js";
import type { SecretStore, StoreProvider } from "../store.js";
import type { StoreContext } from "../context.js";
import { connectKeyVault, workloadIdentityInputs, type KeyVaultClient } from "./connection.js";
import { describeKeyVault, keyVaultConnection, keyVaultName } from "../../core/key-vault-schema.js";

const location = z.strictObject(keyVaultConnection);
export const keyVaultLocation = z.strictObject({ keyVault: location });
export type KeyVaultLocation = z.infer<typeof location>;

export const keyVaultProvider: StoreProvider<"keyVault", KeyVaultLocation> = {
  key: "keyVault",
  schema: location,
  open: (loc, ctx) => keyVaultStore(loc, ctx),
  // Key Vault authorizes the workload identity with its own access policy or Azure RBAC.
  access: () => [],
  implicitInputs: () => workloadIdentityInputs(),
  // An unauthenticated request is answered 401 with the auth challenge: the vault is up.
  dependencies: (loc) => [
    {
      http: {
        url: `${loc.url.replace(/\/$/, "")}/secrets?api-version=${loc.apiVersion ?? "7.4"}`,
        expectStatus: [401],
      },
    },
  ],
  describe: describeKeyVault,
  keyNameProblem: (key) =>
    keyVaultName.test(key) ? undefined : `"${key}" is not a Key Vault secret name (1–127 letters, digits and dashes)`,
};

/**
 * Requests in flight per vault. Key Vault allows 4,000 secret GETs per 10 s per vault; 16
 * keeps a 1,000-key sync well below that while hiding most of each request's latency.
 */
export const KEY_VAULT_CONCURRENCY = 16;

/**
 * Runs `fn` for every key, at most KEY_VAULT_CONCURRENCY at a time, the first one alone: a
 * client's first request is answered with the auth challenge, and requests sent before that
 * answer would each be challenged too.
 */
export async function forEachKey<T, R>(keys: readonly T[], fn: (key: T) => Promise<R>): Promise<R[]> {
  if (!keys.length) return [];
  const first = await fn(keys[0]!);
  return [first, ...(await mapLimit(keys.slice(1), KEY_VAULT_CONCURRENCY, fn))];
}

/** Tags reseed puts on the secrets it writes; tags already on a secret are kept. */
export const keyVaultTags = (unit: string) => ({ "managed-by": "reseed", "reseed-unit": unit });

/** A whole vault: each secret is one key. Keys are read and written one request each, bounded in parallel. */
function keyVaultStore(loc: KeyVaultLocation, ctx: StoreContext): SecretStore {
  let client: KeyVaultClient | undefined;
  const tags = new Map<string, Record<string, string>>();
  // The version of each secret read or recovered: retagging one names it.
  const versions = new Map<string, string>();
  const connect = async () => (client ??= await connectKeyVault(loc, ctx.env, ctx.redactor, ctx.record));
  return {
    describe: () => describeKeyVault(loc),
    async read(keys) {
      const c = await connect();
      const found = await forEachKey(keys, async (name) => {
        const s = await c.get(name);
        if (s) {
          tags.set(name, s.tags);
          versions.set(name, s.version);
        }
        return [name, s?.value] as const;
      });
      return Object.fromEntries(found.filter((e): e is readonly [string, string] => e[1] !== undefined));
    },
    async list() {
      return (await connect()).names();
    },
    async write(values) {
      await this.writeMarked(values, { name: "", value: undefined, keys: [] });
    },
    keyed: true,
    marks(name, keys) {
      return Object.fromEntries(keys.map((k) => [k, tags.get(k)?.[`reseed-${name}`]]));
    },
    // Key Vault has no conditional write: a key is set only when the caller read it as absent
    // or means to replace it; CronWorkflow concurrencyPolicy Forbid keeps one writer per unit.
    async writeMarked(values, mark) {
      const c = await connect();
      const markTag = mark.value !== undefined ? { [`reseed-${mark.name}`]: mark.value } : {};
      const tagsOf = (name: string) => ({ ...tags.get(name), ...keyVaultTags(ctx.unit.metadata.name), ...markTag });
      await forEachKey(Object.entries(values), ([name, value]) => c.set(name, value, tagsOf(name)));
      const retag =
        mark.value === undefined
          ? []
          : mark.keys.filter(
              (k) => !(k in values) && versions.has(k) && tags.get(k)?.[`reseed-${mark.name}`] !== mark.value,
            );
      await forEachKey(retag, (name) => c.setTags(name, versions.get(name)!, tagsOf(name)));
    },
    async remove(keys) {
      const c = await connect();
      await forEachKey(keys, (name) => c.remove(name));
    },
    softDelete: {
      async deleted(keys) {
        const c = await connect();
        const found = await forEachKey(keys, async (name) => {
          const deleted = await c.deleted(name);
          if (deleted) tags.set(name, deleted.tags);
          return deleted ? name : undefined;
        });
        return found.filter((n): n is string => n !== undefined);
      },
      async recover(keys) {
        const c = await connect();
        await forEachKey(keys, async (name) => {
          const back = await c.recover(name);
          tags.set(name, back.tags);
          versions.set(name, back.version);
        });
      },
    },
  };
}
