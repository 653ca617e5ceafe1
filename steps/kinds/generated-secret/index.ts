import * as z from "../../core/zod.js";
import { defineKind, seedingPatterns, type Check, type KindContext } from "../kind.js";
import { managedObject } from "../../core/metadata.js";
import { keyVaultLocation } from "../../stores/key-vault/store.js";
import { vaultLocation } from "../../stores/vault/store.js";
import {
  keyNameProblem,
  openStore,
  storeDependencies,
  storeImplicitInputs,
  type SecretLocation,
  type SecretStore,
} from "../../stores/index.js";
import { under } from "../../core/access.js";
import { kubernetesSecretAccess, kubernetesSecretProvider } from "../../stores/kubernetes-secret.js";
import { charsets, generateValue } from "./generate.js";
import { planKeys, ROTATION_MARK, type CurrentKeys } from "./plan.js";

const settings = z
  .strictObject({
    secret: z
      .optional(managedObject)
      .check(z.describe("Keep the values in this Kubernetes Secret (lost with the cluster).")),
    vault: z
      .optional(vaultLocation.shape.vault)
      .check(z.describe("Keep the values in this Vault KV v2 secret: a recreated cluster gets them back.")),
    keyVault: z
      .optional(keyVaultLocation.shape.keyVault)
      .check(
        z.describe("Keep each value as a Key Vault secret named like its key: a recreated cluster gets them back."),
      ),
    keys: z
      .array(
        z.strictObject({
          name: z.string().check(z.regex(/^[-._a-zA-Z0-9]+$/, "must be a valid Secret key")),
          length: z._default(z.number().check(z.int(), z.minimum(8), z.maximum(256)), 32),
          charset: z._default(
            z.enum(Object.keys(charsets) as [keyof typeof charsets, ...(keyof typeof charsets)[]]),
            "alphanumeric",
          ),
        }),
      )
      .check(
        z.minLength(1),
        z.refine((ks) => new Set(ks.map((k) => k.name)).size === ks.length, "key names must be unique"),
      ),
    rotationId: z
      .optional(z.string().check(z.minLength(1)))
      .check(z.describe("Change it in Git to regenerate every listed key once; otherwise values are never changed.")),
  })
  .check(
    z.superRefine((s, ctx) => {
      const stores = (["secret", "vault", "keyVault"] as const).filter((k) => s[k] !== undefined);
      if (stores.length !== 1) {
        ctx.addIssue({
          code: "custom",
          path: [],
          message: `give exactly one place to keep the values: secret, vault or keyVault (got ${stores.length ? stores.join(", ") : "none"})`,
        });
      }
      const loc = location(s);
      s.keys.forEach((k, i) => {
        const problem = loc && keyNameProblem(loc, k.name);
        if (problem) ctx.addIssue({ code: "custom", path: ["keys", i, "name"], message: problem });
      });
    }),
  );
type Settings = z.infer<typeof settings>;

/** The external store, as a secretLocation, when the values live outside the cluster. */
function location(s: Pick<Settings, "vault" | "keyVault">): SecretLocation | undefined {
  if (s.vault) return { vault: s.vault };
  if (s.keyVault) return { keyVault: s.keyVault };
  return undefined;
}

/** The store that keeps the values; a Kubernetes Secret gets the unit's labels and annotations too. */
function target(ctx: KindContext, s: Settings): SecretStore {
  const loc = location(s);
  return loc ? openStore(loc, ctx) : kubernetesSecretProvider.open(s.secret!, ctx);
}

/**
 * What the store holds of `names`: values, the rotation-id recorded with each, and (Key Vault)
 * which absent ones are soft-deleted and come back with their value.
 */
async function readCurrent(
  store: SecretStore,
  names: string[],
): Promise<CurrentKeys & { values: Record<string, string> }> {
  const read = await store.read(names);
  const values = read ?? {};
  const present = Object.keys(values);
  const absent = names.filter((k) => !(k in values));
  const recoverable = store.softDelete && absent.length ? (await store.softDelete.deleted(absent)).sort() : [];
  const exists = store.keyed ? present.length > 0 : read !== undefined;
  return { exists, values, present, rotationIds: store.marks(ROTATION_MARK, names), recoverable };
}

export const generatedSecret = defineKind<Settings>({
  kind: "generated-secret",
  authority: "cluster-managed",
  description:
    "Secret values generated once and then kept, in a Kubernetes Secret, a Vault KV v2 secret or a Key Vault; rotated only when rotationId changes.",
  patterns: seedingPatterns,
  spec: settings,
  inputs: [],
  implicitInputs: (s) => {
    const loc = location(s);
    return loc ? storeImplicitInputs(loc) : [];
  },
  dependencies: (s) => {
    const loc = location(s);
    return loc ? storeDependencies(loc) : [];
  },
  access: under(["secret"], kubernetesSecretAccess("write")),

  async ensure(ctx, s) {
    const t = target(ctx, s);
    const names = s.keys.map((k) => k.name);
    const current = await readCurrent(t, names);
    const plan = planKeys(current, names, s.rotationId);
    if (!plan.generate.length && !plan.adopt.length && !plan.recover.length) return;
    const values: Record<string, string> = {};
    for (const key of s.keys.filter((k) => plan.generate.includes(k.name))) {
      const value = generateValue(key.length, key.charset);
      ctx.redactor.register(value);
      values[key.name] = value;
    }
    // Why it writes, before it does: the store records each write itself as it is made.
    ctx.log.info(
      { event: "ensure.plan", target: t.describe(), plan: plan.changes },
      `plan for ${t.describe()}: ${plan.changes.join("; ")}`,
    );
    if (plan.recover.length) await t.softDelete!.recover(plan.recover);
    await t.writeMarked(values, { name: ROTATION_MARK, value: s.rotationId, keys: names });
  },

  async verify(ctx, s) {
    const t = target(ctx, s);
    const names = s.keys.map((k) => k.name);
    const current = await readCurrent(t, names);
    if (!current.exists) return [{ name: t.describe(), ok: false, detail: "does not exist" }];
    const checks: Check[] = names.map((k) => {
      const v = current.values[k];
      return {
        name: `${t.describe()} key ${k}`,
        ok: v !== undefined && v !== "",
        detail:
          v === undefined ? "is missing" : v === "" ? "is empty (set a new rotationId to regenerate it)" : "present",
      };
    });
    if (s.rotationId) {
      const off = names.filter((k) => current.values[k] !== undefined && current.rotationIds[k] !== s.rotationId);
      checks.push({
        name: `${t.describe()} rotationId`,
        ok: off.length === 0,
        detail:
          off.length === 0
            ? s.rotationId
            : `${off.map((k) => `${k} has ${current.rotationIds[k] ?? "none"}`).join(", ")}; want ${s.rotationId}`,
      });
    }
    return checks;
  },
});
