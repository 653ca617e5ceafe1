import type { KindContext } from "../kind.js";
import { connectKeyVault, type KeyVaultClient } from "../../stores/key-vault/connection.js";
import { describeKeyVault, forEachKey, keyVaultTags, type KeyVaultLocation } from "../../stores/key-vault/store.js";
import { connectVault, type KvSecret, type VaultClient } from "../../stores/vault/connection.js";
import { describeVault, type VaultLocation } from "../../stores/vault/store.js";
import type { ManagedObject } from "../../core/metadata.js";
import { kubernetesSecretProvider, readManagedSecret, writeManagedSecret, type ReadSecret } from "../../stores/kubernetes-secret.js";
import { ROTATION_ANNOTATION, type CurrentKeys } from "./plan.js";

/** Vault custom metadata and Key Vault tags take no "/" in keys: the rotationId's name there. */
export const ROTATION_TAG = "reseed-rotation-id";

export interface Current extends CurrentKeys {
  values: Record<string, string>;
}

/**
 * Where generated-secret keeps its values. `apply` writes the generated values and records
 * the rotationId on every listed key, and never overwrites a value it did not read: the
 * Kubernetes Secret is replaced at the resourceVersion read, the Vault secret written with
 * check-and-set on the version read, and a Key Vault secret is only set when it was absent
 * (or is being rotated). Keys in `recover` (only a Key Vault reads any as recoverable) are
 * recovered first.
 */
export interface GenerateTarget {
  describe(): string;
  read(keys: string[]): Promise<Current>;
  apply(change: { values: Record<string, string>; keys: string[]; rotationId: string | undefined; recover: string[] }): Promise<void>;
}

export function kubernetesTarget(ctx: KindContext, secret: ManagedObject): GenerateTarget {
  const namespace = secret.namespace ?? ctx.namespace;
  let current: ReadSecret | undefined;
  return {
    describe: () => kubernetesSecretProvider.describe(secret, namespace),
    async read(keys) {
      current = await readManagedSecret(ctx, secret.name, namespace);
      const values = current?.data ?? {};
      const recorded = current?.secret.metadata?.annotations?.[ROTATION_ANNOTATION];
      return { exists: current !== undefined, values, present: Object.keys(values), rotationIds: Object.fromEntries(keys.map((k) => [k, recorded])) };
    },
    async apply({ values, rotationId }) {
      await writeManagedSecret(ctx, {
        target: secret,
        namespace,
        current: current?.secret,
        data: { ...current?.data, ...values },
        extraAnnotations: rotationId ? { [ROTATION_ANNOTATION]: rotationId } : {},
      });
    },
  };
}

export function vaultTarget(ctx: KindContext, loc: VaultLocation): GenerateTarget {
  let client: VaultClient | undefined;
  let current: KvSecret | undefined;
  const connect = async () => (client ??= await connectVault(loc, ctx.env, ctx.redactor));
  return {
    describe: () => describeVault(loc),
    async read(keys) {
      current = await (await connect()).readKv(loc.mount, loc.path);
      const recorded = current?.customMetadata[ROTATION_TAG];
      const values = current?.data ?? {};
      return { exists: current?.data !== undefined, values, present: Object.keys(values), rotationIds: Object.fromEntries(keys.map((k) => [k, recorded])) };
    },
    async apply({ values, rotationId }) {
      const c = await connect();
      if (Object.keys(values).length) await c.writeKv(loc.mount, loc.path, { ...current?.data, ...values }, current?.version ?? 0);
      const custom = current?.customMetadata ?? {};
      const wanted = { ...custom, "managed-by": "reseed", "reseed-unit": ctx.unit.metadata.name, ...(rotationId ? { [ROTATION_TAG]: rotationId } : {}) };
      if (Object.entries(wanted).some(([k, v]) => custom[k] !== v)) await c.writeCustomMetadata(loc.mount, loc.path, wanted);
    },
  };
}

export function keyVaultTarget(ctx: KindContext, loc: KeyVaultLocation): GenerateTarget {
  let client: KeyVaultClient | undefined;
  const found = new Map<string, { version: string; tags: Record<string, string> }>();
  const connect = async () => (client ??= await connectKeyVault(loc, ctx.env, ctx.redactor));
  return {
    describe: () => describeKeyVault(loc),
    async read(keys) {
      const c = await connect();
      found.clear();
      const values: Record<string, string> = {};
      const rotationIds: Record<string, string | undefined> = {};
      const recoverable: string[] = [];
      await forEachKey(keys, async (k) => {
        const s = await c.get(k);
        if (s) {
          values[k] = s.value;
          rotationIds[k] = s.tags[ROTATION_TAG];
          found.set(k, { version: s.version, tags: s.tags });
          return;
        }
        // Absent: a soft-deleted secret still holds the value generated before (one GET
        // more, only for keys that are absent).
        const deleted = await c.deleted(k);
        if (!deleted) return;
        recoverable.push(k);
        rotationIds[k] = deleted.tags[ROTATION_TAG];
      });
      return { exists: found.size > 0, values, present: Object.keys(values), rotationIds, recoverable: recoverable.sort() };
    },
    // Key Vault has no conditional write: a key is set only when it was read as absent, or
    // is being rotated; CronWorkflow concurrencyPolicy Forbid keeps one writer per unit.
    async apply({ values, keys, rotationId, recover }) {
      const c = await connect();
      await forEachKey(recover, async (k) => {
        const back = await c.recover(k);
        found.set(k, { version: back.version, tags: back.tags });
      });
      const tags = (k: string) => ({ ...found.get(k)?.tags, ...keyVaultTags(ctx.unit.metadata.name), ...(rotationId ? { [ROTATION_TAG]: rotationId } : {}) });
      await forEachKey(Object.entries(values), ([k, v]) => c.set(k, v, tags(k)));
      const retag = keys.filter((k) => !(k in values) && found.has(k) && rotationId !== undefined && found.get(k)!.tags[ROTATION_TAG] !== rotationId);
      await forEachKey(retag, (k) => c.setTags(k, found.get(k)!.version, tags(k)));
    },
  };
}
