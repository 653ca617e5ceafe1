// Conformance cases of generated-secret (test code, run by test/conformance/conformance.test.ts):
// into a Kubernetes Secret, the real OpenBao, and the fake Key Vault.
import { inject } from "vitest";
import { workloadIdentity, KeyVaultAdmin } from "../../../test/harness/authorities.js";
import { reconciler, type ConformanceCase } from "../../../test/conformance/cases.js";
import * as stores from "../../../test/conformance/secret-stores.js";

const keys = [{ name: "password" }, { name: "api-key", length: 48, charset: "base64url" }];

const inKubernetes: ConformanceCase = {
  spec: () => reconciler("generated-secret", { secret: { name: "app-credentials" }, keys }),
  setup: async () => {},
  removeInput: {},
  deleteState: (admin, ns) => admin.deleteSecret(ns, "app-credentials"),
  writtenSecrets: async (admin, ns) => Object.values((await admin.readSecret(ns, "app-credentials")) ?? {}),
};

function inVault(): ConformanceCase {
  const name = "vault";
  const path = "conformance/generated";
  const role = "conf-generated-secret";
  return {
    name,
    ...stores.withVaultLogin(),
    spec: () =>
      reconciler("generated-secret", {
        vault: {
          address: inject("openbao").address,
          mount: "secret",
          path,
          auth: { kubernetes: { role, tokenFile: stores.tokenFile(name) } },
        },
        keys,
        rotationId: "r1",
      }),
    setup: (_admin, ns) =>
      stores.vaultLogin(
        ns,
        stores.tokenFile(name),
        role,
        `path "secret/data/${path}" { capabilities = ["create", "read", "update"] }\npath "secret/metadata/${path}" { capabilities = ["create", "read", "update"] }`,
      ),
    removeInput: stores.tokenFileInput(name),
    deleteState: () => stores.bao().kvDestroy("secret", path),
    writtenSecrets: async () => Object.values((await stores.bao().kvGet("secret", path))?.data ?? {}),
  };
}

function inKeyVault(): ConformanceCase {
  const env = stores.removableEnv();
  let admin: KeyVaultAdmin | undefined;
  const names = ["coder-admin-password", "coder-api-token"];
  return {
    name: "keyVault",
    servers: async () => {
      const azure = await stores.shared.ready();
      admin = new KeyVaultAdmin(azure, (await azure.addVault("conf-generated")).url);
    },
    stepEnv: () => env.get(),
    authorityWrites: stores.keyVaultWrites(["conf-generated"]),
    spec: () =>
      reconciler("generated-secret", {
        keyVault: { url: admin!.url },
        keys: names.map((name) => ({ name })),
        rotationId: "r1",
      }),
    setup: async (_admin, ns) => {
      const azure = stores.shared.azure!;
      env.set(await workloadIdentity(azure, inject("kube"), ns, stores.SA, stores.filesDir()));
      azure.vault("conf-generated").allow(env.get().AZURE_CLIENT_ID!, ["get", "set"]);
    },
    removeInput: { "env AZURE_CLIENT_ID": () => env.remove("AZURE_CLIENT_ID") },
    deleteState: async () => {
      for (const k of names) await admin!.destroy(k);
    },
    writtenSecrets: async () =>
      (await Promise.all(names.map((k) => admin!.get(k)))).flatMap((s) => (s ? [s.value] : [])),
  };
}

export const conformance = [inKubernetes, inVault(), inKeyVault()];
