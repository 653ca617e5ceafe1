import * as z from "./zod.js";
import { httpUrl } from "./url.js";

export const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

const envName = z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"));

export const vaultAuth = z.union([
  z.strictObject({
    kubernetes: z.strictObject({
      role: z.string().check(z.minLength(1), z.describe("The Vault role bound to the unit's ServiceAccount.")),
      mount: z
        ._default(z.string().check(z.minLength(1)), "kubernetes")
        .check(z.describe("Where the kubernetes auth method is mounted.")),
      tokenFile: z
        ._default(z.string().check(z.startsWith("/")), SERVICE_ACCOUNT_TOKEN)
        .check(
          z.describe("The ServiceAccount token to log in with; a projected token with its own audience works too."),
        ),
    }),
  }),
  z.strictObject({
    token: z.union([
      z.strictObject({
        env: envName.check(z.describe("Environment variable holding a Vault token, e.g. from a Secret via envFrom.")),
      }),
      z.strictObject({
        file: z.string().check(z.startsWith("/"), z.describe("File holding a Vault token, e.g. a Vault Agent sink.")),
      }),
    ]),
  }),
]);
export type VaultAuth = z.infer<typeof vaultAuth>;

/** Where a Vault is and how to log in: shared by the vault store and the vault input source. */
export const vaultConnection = {
  address: httpUrl.check(z.describe("Vault (or OpenBao) address, e.g. https://vault.vault.svc:8200.")),
  namespace: z
    .optional(z.string().check(z.minLength(1)))
    .check(z.describe("Vault namespace (X-Vault-Namespace), where the server has namespaces.")),
  auth: vaultAuth,
};
export interface VaultConnection {
  address: string;
  namespace?: string | undefined;
  auth: VaultAuth;
}

/** How logs and problems name a KV v2 secret, for a store and an input alike: the one wording for it. */
export function describeVault(loc: {
  address: string;
  namespace?: string | undefined;
  mount: string;
  path: string;
}): string {
  return `Vault ${loc.address}${loc.namespace ? ` namespace ${loc.namespace}` : ""} ${loc.mount}/${loc.path}`;
}
