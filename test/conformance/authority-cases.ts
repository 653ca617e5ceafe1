// Conformance cases for the secret authorities: generated-secret and secret-sync on the real
// OpenBao and on the fake Key Vault (see test/harness/fake-key-vault.ts for why it is a fake).
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { inject } from "vitest";
import {
  authorityStepEnv,
  caBundle,
  fakeKeyVault,
  KeyVaultAdmin,
  projectedToken,
  workloadIdentity,
} from "../harness/authorities.js";
import type { FakeKeyVault } from "../harness/fake-key-vault.js";
import { OpenBaoAdmin, OpenBaoAudit } from "../harness/openbao.js";
import type { Admin } from "../harness/kube-admin.js";
import type { ConformanceCase, WriteCounter } from "./cases.js";

const SA = "unit";

/** Token files and the CA bundle live beside the API server's kubeconfigs, and go with it. */
const filesDir = () => join(inject("kube").kubeconfigDir, "authorities");
const tokenFile = (caseName: string) => join(filesDir(), `${caseName.replace(/[^a-z0-9]+/gi, "-")}.vault-token`);

/** The fake Azure and the CA bundle the cases share in this test process, made on first use. */
const shared = {
  azure: undefined as FakeKeyVault | undefined,
  bundle: "",
  async ready(): Promise<FakeKeyVault> {
    if (!this.azure) {
      this.azure = await fakeKeyVault(inject("kube"));
      this.bundle = await caBundle([inject("openbao").caFile, this.azure.caFile], filesDir());
    }
    return this.azure;
  },
};

const bao = () => new OpenBaoAdmin(inject("openbao"));
const baoWrites = (): WriteCounter => {
  const audit = new OpenBaoAudit(inject("openbao").auditLog);
  return { mark: () => audit.mark(), since: (m) => audit.since(m) };
};
const keyVaultWrites = (vaults: string[]): WriteCounter => ({
  mark: async () => shared.azure!.mark(),
  since: async (m) => shared.azure!.writesSince(m).filter((w) => vaults.includes(w.split(" ")[2]!)),
});

/** A token file for Vault's kubernetes auth, and a role that lets the unit's ServiceAccount use one policy. */
async function vaultLogin(ns: string, file: string, role: string, policy: string): Promise<void> {
  await bao().policy(role, policy);
  await bao().kubernetesRole(role, { namespace: ns, name: SA }, [role]);
  await projectedToken(inject("kube"), ns, SA, { file });
}

/** Step environment that can be taken away one variable at a time, the way removeInput wants. */
function removableEnv() {
  const removed = new Set<string>();
  let env: Record<string, string> = {};
  return {
    set: (e: Record<string, string>) => {
      env = e;
      removed.clear();
    },
    remove: async (name: string) => void removed.add(name),
    get: (): Record<string, string> => ({
      ...authorityStepEnv(shared.bundle),
      ...Object.fromEntries(Object.entries(env).filter(([k]) => !removed.has(k))),
    }),
  };
}

function generatedInVault(): ConformanceCase {
  const name = "vault";
  const path = "conformance/generated";
  const role = "conf-generated-secret";
  return {
    name,
    servers: async () => void (await shared.ready()),
    stepEnv: () => authorityStepEnv(shared.bundle),
    authorityWrites: baoWrites(),
    spec: () => ({
      pattern: "reconciler",
      inputs: {},
      ensure: {
        kind: "generated-secret",
        with: {
          vault: {
            address: inject("openbao").address,
            mount: "secret",
            path,
            auth: { kubernetes: { role, tokenFile: tokenFile(name) } },
          },
          keys: [{ name: "password" }, { name: "api-key", length: 48, charset: "base64url" }],
          rotationId: "r1",
        },
      },
    }),
    setup: (_admin, ns) =>
      vaultLogin(
        ns,
        tokenFile(name),
        role,
        `path "secret/data/${path}" { capabilities = ["create", "read", "update"] }\npath "secret/metadata/${path}" { capabilities = ["create", "read", "update"] }`,
      ),
    removeInput: { [`file ${tokenFile(name)}`]: () => rm(tokenFile(name), { force: true }) },
    deleteState: () => bao().kvDestroy("secret", path),
    writtenSecrets: async () => Object.values((await bao().kvGet("secret", path))?.data ?? {}),
  };
}

function generatedInKeyVault(): ConformanceCase {
  const env = removableEnv();
  let admin: KeyVaultAdmin | undefined;
  const keys = ["coder-admin-password", "coder-api-token"];
  return {
    name: "keyVault",
    servers: async () => {
      const azure = await shared.ready();
      admin = new KeyVaultAdmin(azure, (await azure.addVault("conf-generated")).url);
    },
    stepEnv: () => env.get(),
    authorityWrites: keyVaultWrites(["conf-generated"]),
    spec: () => ({
      pattern: "reconciler",
      inputs: {},
      ensure: {
        kind: "generated-secret",
        with: { keyVault: { url: admin!.url }, keys: keys.map((name) => ({ name })), rotationId: "r1" },
      },
    }),
    setup: async (_admin, ns) => {
      const azure = shared.azure!;
      env.set(await workloadIdentity(azure, inject("kube"), ns, SA, filesDir()));
      azure.vault("conf-generated").allow(env.get().AZURE_CLIENT_ID!, ["get", "set"]);
    },
    removeInput: { "env AZURE_CLIENT_ID": () => env.remove("AZURE_CLIENT_ID") },
    deleteState: async () => {
      for (const k of keys) await admin!.destroy(k);
    },
    writtenSecrets: async () =>
      (await Promise.all(keys.map((k) => admin!.get(k)))).flatMap((s) => (s ? [s.value] : [])),
  };
}

function syncKeyVaultToKeyVault(): ConformanceCase {
  const env = removableEnv();
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
      const azure = await shared.ready();
      source = new KeyVaultAdmin(azure, (await azure.addVault("conf-sync-source")).url);
      dest = new KeyVaultAdmin(azure, (await azure.addVault("conf-sync-dest")).url);
    },
    stepEnv: () => env.get(),
    authorityWrites: keyVaultWrites(["conf-sync-source", "conf-sync-dest"]),
    spec: () => ({
      pattern: "reconciler",
      inputs: {},
      ensure: {
        kind: "secret-sync",
        with: {
          from: { keyVault: { url: source!.url } },
          to: { keyVault: { url: dest!.url } },
          keys: ["ghcr-token", { from: "openai-api-key", to: "openai-key" }],
          drift: "correct",
        },
      },
    }),
    setup: async (_admin, ns) => {
      const azure = shared.azure!;
      env.set(await workloadIdentity(azure, inject("kube"), ns, SA, filesDir()));
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

function syncVaultToKubernetes(): ConformanceCase {
  const name = "vault → kubernetes";
  const path = "conformance/workspace";
  const role = "conf-sync-reader";
  const values = { "github-token": "ghp_workspaceToken4", openai: "sk-workspaceKey5" };
  return {
    name,
    servers: async () => void (await shared.ready()),
    stepEnv: () => authorityStepEnv(shared.bundle),
    authorityWrites: baoWrites(),
    spec: () => ({
      pattern: "reconciler",
      inputs: {},
      ensure: {
        kind: "secret-sync",
        with: {
          from: {
            vault: {
              address: inject("openbao").address,
              path,
              auth: { kubernetes: { role, tokenFile: tokenFile(name) } },
            },
          },
          to: { kubernetesSecret: { name: "workspace-credentials" } },
          keys: ["github-token", { from: "openai", to: "OPENAI_API_KEY" }],
          drift: "correct",
        },
      },
    }),
    setup: async (_admin, ns) => {
      await vaultLogin(ns, tokenFile(name), role, `path "secret/data/${path}" { capabilities = ["read"] }`);
      if (JSON.stringify((await bao().kvGet("secret", path))?.data) !== JSON.stringify(values))
        await bao().kvPut("secret", path, values);
    },
    removeInput: { [`file ${tokenFile(name)}`]: () => rm(tokenFile(name), { force: true }) },
    deleteState: (admin: Admin, ns: string) => admin.deleteSecret(ns, "workspace-credentials"),
    writtenSecrets: async () => Object.values(values),
  };
}

function syncKubernetesToVaultNamespace(): ConformanceCase {
  const env = removableEnv();
  const vaultNs = "conf-team";
  const path = "apps/payments";
  const values = { "db-password": "kubernetes-source-pass6", "api-token": "kubernetes-source-token7" };
  return {
    name: "kubernetes → vault namespace",
    servers: async () => {
      await shared.ready();
      await bao().namespace(vaultNs);
      await bao().enableKv("secret", vaultNs);
      await bao().policy(
        "payments-writer",
        `path "secret/data/${path}" { capabilities = ["create", "read", "update"] }`,
        vaultNs,
      );
    },
    stepEnv: () => env.get(),
    authorityWrites: baoWrites(),
    spec: () => ({
      pattern: "reconciler",
      inputs: {},
      ensure: {
        kind: "secret-sync",
        with: {
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
        },
      },
    }),
    setup: async (admin, ns) => {
      env.set({ VAULT_TOKEN: await bao().token(["payments-writer"], vaultNs) });
      await admin.putSecret(ns, "payments", values);
    },
    removeInput: { "env VAULT_TOKEN": () => env.remove("VAULT_TOKEN") },
    deleteState: () => bao().kvDestroy("secret", path, vaultNs),
    writtenSecrets: async () => Object.values(values),
  };
}

export const generatedSecretAuthorityCases = [generatedInVault(), generatedInKeyVault()];
export const secretSyncCases = [syncKeyVaultToKeyVault(), syncVaultToKubernetes(), syncKubernetesToVaultNamespace()];
