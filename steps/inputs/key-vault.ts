import type { InputRef } from "../core/spec.js";
import { connectKeyVault, describeKeyVaultError, workloadIdentityInputs } from "../stores/key-vault/connection.js";
import type { InputSource } from "./source.js";

/** A Key Vault secret, read with the pod's workload identity. */
export const keyVaultSource: InputSource<Extract<InputRef, { keyVault: unknown }>> = {
  key: "keyVault",
  implicitInputs: () => workloadIdentityInputs(),
  resolve: async ({ keyVault: ref }, env) => {
    let secret;
    try {
      secret = await (await connectKeyVault(ref, env.env, env.redactor)).get(ref.name);
    } catch (err) {
      return { absent: `could not be read: ${describeKeyVaultError(err, env.redactor)}` };
    }
    return secret ? { value: secret.value } : { absent: "does not exist" };
  },
};
