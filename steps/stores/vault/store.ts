import * as z from "../../core/zod.js";
import type { SecretStore, StoreProvider } from "../store.js";
import type { StoreContext } from "../context.js";
import { connectVault, vaultImplicitInputs, type KvSecret, type VaultClient } from "./connection.js";
import { describeVault, vaultConnection } from "../../core/vault-schema.js";

const location = z.strictObject({
  ...vaultConnection,
  mount: z
    ._default(z.string().check(z.minLength(1)), "secret")
    .check(z.describe("Where the KV v2 secrets engine is mounted.")),
  path: z
    .string()
    .check(
      z.minLength(1),
      z.regex(/^[^/].*[^/]$|^[^/]$/, "a path under the mount, without leading or trailing /"),
      z.describe("The KV v2 secret; its keys are the store's keys."),
    ),
});
export const vaultLocation = z.strictObject({ vault: location });
export type VaultLocation = z.infer<typeof location>;

export const vaultProvider: StoreProvider<"vault", VaultLocation> = {
  key: "vault",
  schema: location,
  open: (loc, ctx) => vaultStore(loc, ctx),
  // Vault authorizes with its own auth (a Vault role or token), not Kubernetes RBAC.
  access: () => [],
  implicitInputs: (loc) => vaultImplicitInputs(loc.auth),
  dependencies: (loc) => [{ vault: { address: loc.address } }],
  describe: describeVault,
  keyNameProblem: () => undefined,
};

/** One KV v2 secret: reads are one request, writes rewrite it whole with check-and-set. */
function vaultStore(loc: VaultLocation, ctx: StoreContext): SecretStore {
  let client: VaultClient | undefined;
  let last: KvSecret | undefined;
  let read = false;
  const connect = async () => (client ??= await connectVault(loc, ctx.env, ctx.redactor, ctx.record));
  const fetch = async () => {
    last = await (await connect()).readKv(loc.mount, loc.path);
    read = true;
    return last;
  };
  return {
    describe: () => describeVault(loc),
    async read(keys) {
      const s = await fetch();
      if (!s?.data) return undefined;
      const data = s.data;
      return Object.fromEntries(keys.filter((k) => k in data).map((k) => [k, data[k]!]));
    },
    async list() {
      return Object.keys((await fetch())?.data ?? {}).sort();
    },
    // Against the version last read: check-and-set makes a concurrent writer fail the run.
    async write(values) {
      if (!read) await fetch();
      const data = { ...last?.data, ...values };
      const version = await (await connect()).writeKv(loc.mount, loc.path, data, last?.version ?? 0);
      last = { data, version, customMetadata: last?.customMetadata ?? {} };
    },
    marks(name, keys) {
      const recorded = last?.customMetadata[`reseed-${name}`];
      return Object.fromEntries(keys.map((k) => [k, recorded]));
    },
    async writeMarked(values, mark) {
      if (Object.keys(values).length) await this.write(values);
      const custom = last?.customMetadata ?? {};
      const wanted = {
        ...custom,
        "managed-by": "reseed",
        "reseed-unit": ctx.unit.metadata.name,
        ...(mark.value !== undefined ? { [`reseed-${mark.name}`]: mark.value } : {}),
      };
      if (Object.entries(wanted).some(([k, v]) => custom[k] !== v)) {
        await (await connect()).writeCustomMetadata(loc.mount, loc.path, wanted);
        if (last) last = { ...last, customMetadata: wanted };
      }
    },
    async remove(keys) {
      if (!read) await fetch();
      if (!last?.data) return;
      const data = Object.fromEntries(Object.entries(last.data).filter(([k]) => !keys.includes(k)));
      const version = await (await connect()).writeKv(loc.mount, loc.path, data, last.version);
      last = { ...last, data, version };
    },
  };
}
