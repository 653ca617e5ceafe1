import type { SecretClientOptions } from "@azure/keyvault-secrets";
import * as z from "./zod.js";

// A vault URL is an origin: the client appends /secrets/<name> to it, so a path would address
// another vault's or no vault's secrets, a query would be dropped, and http would carry the
// bearer token in clear. Any DNS suffix is allowed: public (vault.azure.net), sovereign
// (vault.azure.cn, vault.usgovcloudapi.net, …) and Azure Stack Hub (vault.<region>.<fqdn>).
// A trailing slash is allowed because the portal shows the Vault URI with one.
const ORIGIN =
  /^https:\/\/[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+(:[0-9]{1,5})?\/?$/;

/** Why a string is not a vault origin, for the lint message. */
function notAnOrigin(input: unknown): string {
  const why = "must be the vault's origin, https://<vault-name>.vault.azure.net (or a sovereign-cloud suffix)";
  if (typeof input !== "string") return why;
  let url: URL;
  try {
    url = new URL(input);
  } catch {
    return `${why}: not a URL`;
  }
  if (url.protocol !== "https:") return `${why}: ${url.protocol.slice(0, -1)} is not https`;
  if (url.username || url.password) return `${why}: credentials do not belong in it`;
  if (url.search) return `${why}: without a query (${url.search})`;
  if (url.hash) return `${why}: without a fragment`;
  if (url.pathname !== "/") return `${why}: without a path (${url.pathname})`;
  return `${why}: ${url.host} is not a DNS name`;
}

export const keyVaultUrl = z
  .string()
  .check(
    z.regex(ORIGIN, { error: (issue) => notAnOrigin(issue.input) }),
    z.describe(
      "The vault URL, an origin: https://kv-platform.vault.azure.net (sovereign-cloud suffixes too), no path or query.",
    ),
  );

/**
 * The API versions the installed @azure/keyvault-secrets can speak. The package exports them
 * only as the type of `serviceVersion`, not as a value: a Record over that type must name
 * every version and no other, so an upgrade that adds or drops one fails the typecheck here.
 */
type SdkServiceVersion = NonNullable<SecretClientOptions["serviceVersion"]>;
const sdkVersions: Record<SdkServiceVersion, true> = {
  "7.0": true,
  "7.1": true,
  "7.2": true,
  "7.3": true,
  "7.4": true,
  "7.5": true,
  "7.6": true,
  "2025-07-01": true,
  "2026-04-01": true,
};
export const KEY_VAULT_API_VERSIONS = Object.keys(sdkVersions) as [SdkServiceVersion, ...SdkServiceVersion[]];

export const keyVaultApiVersion = z
  .enum(KEY_VAULT_API_VERSIONS)
  .check(
    z.describe(
      "Pin the Key Vault REST API version (default: the client's newest). For vaults and gateways that lag behind: Azure Stack Hub, sovereign clouds, proxies that allow-list versions.",
    ),
  );
export type KeyVaultApiVersion = z.infer<typeof keyVaultApiVersion>;

/** Where a vault is and how to speak to it: the shape under every `keyVault:` of a unit. */
export const keyVaultConnection = {
  url: keyVaultUrl,
  apiVersion: z.optional(keyVaultApiVersion),
};

/** Key Vault secret names: 1–127 letters, digits and dashes. */
export const keyVaultName = /^[0-9a-zA-Z-]{1,127}$/;

/** How logs and problems name a vault, for a store and an input alike. */
export const describeKeyVault = (loc: { url: string }): string => `Key Vault ${loc.url}`;
