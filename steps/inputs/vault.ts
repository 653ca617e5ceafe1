import { readOnly } from "../core/changes.js";
import type { InputRef } from "../core/spec.js";
import { connectVault, describeVaultError, vaultImplicitInputs } from "../stores/vault/connection.js";
import { didYouMean } from "../core/suggest.js";
import type { InputSource } from "./source.js";

/** A key of a Vault KV v2 secret, read with the unit's own Vault login. */
export const vaultSource: InputSource<Extract<InputRef, { vault: unknown }>> = {
  key: "vault",
  implicitInputs: ({ vault: ref }) => vaultImplicitInputs(ref.auth),
  resolve: async ({ vault: ref }, env) => {
    let secret;
    try {
      secret = await (
        await connectVault(ref, env.env, env.redactor, readOnly, env.timeoutMs)
      ).readKv(ref.mount, ref.path);
    } catch (err) {
      return { absent: `could not be read: ${describeVaultError(err, env.redactor)}` };
    }
    if (!secret?.data) return { absent: "does not exist (no current version of the secret)" };
    const value = secret.data[ref.key];
    return value === undefined
      ? { absent: `is not in the secret${didYouMean(ref.key, Object.keys(secret.data))}` }
      : { value };
  },
};
