// Conformance cases of secret-sync (test code, run by test/conformance/conformance.test.ts):
// between the real OpenBao, the fake Key Vault and Kubernetes Secrets, and a fan-out to the
// namespaces a selector matches, one more of which appears between two runs (addTarget).
import { inject } from "vitest";
import { KeyVaultAdmin, workloadIdentity } from "../../../test/harness/authorities.js";
import { reconciler, type ConformanceCase } from "../../../test/conformance/cases.js";
import * as stores from "../../../test/conformance/secret-stores.js";

function keyVaultToKeyVault(): ConformanceCase {
  const env = stores.removableEnv();
  let source: KeyVaultAdmin | undefined;
  let dest: KeyVaultAdmin | undefined;
  const values = {
    "ghcr-token": "ghp_conformanceSourceToken1",
    "openai-api-key": "sk-conformanceSourceKey2",
    unrelated: "not-synced-value-3",
  };
  return {
    name: "keyVault → keyVault",
    servers: async () => {
      const azure = await stores.shared.ready();
      source = new KeyVaultAdmin(azure, (await azure.addVault("conf-sync-source")).url);
      dest = new KeyVaultAdmin(azure, (await azure.addVault("conf-sync-dest")).url);
    },
    stepEnv: () => env.get(),
    authorityWrites: stores.keyVaultWrites(["conf-sync-source", "conf-sync-dest"]),
    spec: () =>
      reconciler("secret-sync", {
        from: { keyVault: { url: source!.url } },
        to: { keyVault: { url: dest!.url } },
        keys: ["ghcr-token", { from: "openai-api-key", to: "openai-key" }],
        drift: "correct",
      }),
    setup: async (_admin, ns) => {
      const azure = stores.shared.azure!;
      env.set(await workloadIdentity(azure, inject("kube"), ns, stores.SA, stores.filesDir()));
      azure.vault("conf-sync-source").allow(env.get().AZURE_CLIENT_ID!, ["get"]);
      azure.vault("conf-sync-dest").allow(env.get().AZURE_CLIENT_ID!, ["get", "set"]);
      for (const [k, v] of Object.entries(values)) if ((await source!.get(k))?.value !== v) await source!.put(k, v);
    },
    removeInput: { "env AZURE_FEDERATED_TOKEN_FILE": () => env.remove("AZURE_FEDERATED_TOKEN_FILE") },
    deleteState: async () => {
      for (const k of ["ghcr-token", "openai-key"]) await dest!.destroy(k);
    },
    writtenSecrets: async () => [values["ghcr-token"], values["openai-api-key"]],
  };
}

function vaultToKubernetes(): ConformanceCase {
  const name = "vault → kubernetes";
  const path = "conformance/workspace";
  const role = "conf-sync-reader";
  const values = { "github-token": "ghp_workspaceToken4", openai: "sk-workspaceKey5" };
  return {
    name,
    ...stores.withVaultLogin(),
    spec: () =>
      reconciler("secret-sync", {
        from: {
          vault: {
            address: inject("openbao").address,
            path,
            auth: { kubernetes: { role, tokenFile: stores.tokenFile(name) } },
          },
        },
        to: { kubernetesSecret: { name: "workspace-credentials" } },
        keys: ["github-token", { from: "openai", to: "OPENAI_API_KEY" }],
        drift: "correct",
      }),
    setup: async (_admin, ns) => {
      await stores.vaultLogin(
        ns,
        stores.tokenFile(name),
        role,
        `path "secret/data/${path}" { capabilities = ["read"] }`,
      );
      if (JSON.stringify((await stores.bao().kvGet("secret", path))?.data) !== JSON.stringify(values))
        await stores.bao().kvPut("secret", path, values);
    },
    removeInput: stores.tokenFileInput(name),
    deleteState: (admin, ns) => admin.deleteSecret(ns, "workspace-credentials"),
    writtenSecrets: async () => Object.values(values),
  };
}

function kubernetesToVaultNamespace(): ConformanceCase {
  const env = stores.removableEnv();
  const vaultNs = "conf-team";
  const path = "apps/payments";
  const values = { "db-password": "kubernetes-source-pass6", "api-token": "kubernetes-source-token7" };
  return {
    name: "kubernetes → vault namespace",
    servers: async () => {
      await stores.shared.ready();
      await stores.bao().namespace(vaultNs);
      await stores.bao().enableKv("secret", vaultNs);
      await stores
        .bao()
        .policy(
          "payments-writer",
          `path "secret/data/${path}" { capabilities = ["create", "read", "update"] }`,
          vaultNs,
        );
    },
    stepEnv: () => env.get(),
    authorityWrites: stores.baoWrites(),
    spec: () =>
      reconciler("secret-sync", {
        from: { kubernetesSecret: { name: "payments" } },
        to: {
          vault: {
            address: inject("openbao").address,
            namespace: vaultNs,
            path,
            auth: { token: { env: "VAULT_TOKEN" } },
          },
        },
        keys: Object.keys(values),
        drift: "correct",
      }),
    setup: async (admin, ns) => {
      env.set({ VAULT_TOKEN: await stores.bao().token(["payments-writer"], vaultNs) });
      await admin.putSecret(ns, "payments", values);
    },
    removeInput: { "env VAULT_TOKEN": () => env.remove("VAULT_TOKEN") },
    deleteState: () => stores.bao().kvDestroy("secret", path, vaultNs),
    writtenSecrets: async () => Object.values(values),
  };
}

const FAN_OUT_SOURCE = "fan-source-token-0123456789abcdef";

function namespaceSelectorFanOut(): ConformanceCase {
  const label = "conformance.reseed.dev/fan-out";
  const targets = (ns: string) => [`${ns}-t1`, `${ns}-t2`];
  let added = false;
  return {
    name: "namespaceSelector",
    spec: (ns) =>
      reconciler("secret-sync", {
        from: { kubernetesSecret: { name: "fan-source" } },
        to: { kubernetesSecret: { name: "fan-target", namespaceSelector: { matchLabels: { [label]: ns } } } },
        keys: ["token"],
        drift: "correct",
        prune: true,
      }),
    setup: async (admin, ns) => {
      await admin.putSecret(ns, "fan-source", { token: FAN_OUT_SOURCE });
      for (const t of targets(ns)) await admin.labelNamespace(t, { [label]: ns });
    },
    removeInput: {},
    addTarget: async (admin, ns) => {
      added = true;
      await admin.labelNamespace(`${ns}-t3`, { [label]: ns });
      return [`kubernetes create secrets ${ns}-t3/fan-target`];
    },
    deleteState: async (admin, ns) => {
      for (const t of [...targets(ns), ...(added ? [`${ns}-t3`] : [])]) await admin.deleteSecret(t, "fan-target");
    },
    writtenSecrets: async () => [FAN_OUT_SOURCE],
  };
}

export const conformance = [
  keyVaultToKeyVault(),
  vaultToKubernetes(),
  kubernetesToVaultNamespace(),
  namespaceSelectorFanOut(),
];
