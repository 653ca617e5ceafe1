// Conformance cases for fan-out units: secret-sync to a namespaceSelector (real API server) and
// azure-federated-credential for a ServiceAccount selector (the FAKE ARM of
// test/harness/fake-arm.ts; no emulator exists). Each has targets of its own, and one more
// that appears between two runs (addTarget).
import type { Admin } from "../harness/kube-admin.js";
import { startFakeArm, type FakeArmSetup } from "../harness/fake-arm.js";
import type { ConformanceCase } from "./cases.js";

const SOURCE = "fan-source-token-0123456789abcdef";

export function secretSyncFanOutCase(): ConformanceCase {
  const label = "conformance.reseed.dev/fan-out";
  const targets = (ns: string) => [`${ns}-t1`, `${ns}-t2`];
  let added = false;
  return {
    name: "namespaceSelector",
    spec: (ns) => ({
      pattern: "reconciler",
      inputs: {},
      ensure: {
        kind: "secret-sync",
        with: {
          from: { kubernetesSecret: { name: "fan-source" } },
          to: { kubernetesSecret: { name: "fan-target", namespaceSelector: { matchLabels: { [label]: ns } } } },
          keys: ["token"],
          drift: "correct",
          prune: true,
        },
      },
    }),
    setup: async (admin, ns) => {
      await admin.putSecret(ns, "fan-source", { token: SOURCE });
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
    writtenSecrets: async () => [SOURCE],
  };
}

export function federatedCredentialFanOutCase(): ConformanceCase {
  let azure: FakeArmSetup | undefined;
  const removedEnv = new Set<string>();
  const fake = () => azure!.fake;
  const identity = "coder-ws-fan-out";
  const creds = () => fake().credentials(azure!.subscriptionId, "platform", identity)!;
  const workspace = async (admin: Admin, ns: string, name: string) => {
    try {
      await admin.core.createNamespacedServiceAccount({
        namespace: ns,
        body: { metadata: { name, labels: { "conformance.reseed.dev/workspace": "yes" } } },
      });
    } catch (err) {
      if ((err as { code?: number }).code !== 409) throw err;
    }
  };
  return {
    name: "serviceAccounts",
    servers: async () => {
      azure ??= await startFakeArm();
      fake().addIdentity(azure.subscriptionId, "platform", identity);
    },
    stopServers: async () => {
      await azure?.fake.stop();
      azure = undefined;
    },
    stepEnv: () => Object.fromEntries(Object.entries(azure!.env()).filter(([k]) => !removedEnv.has(k))),
    authorityWrites: { mark: () => fake().writeCounter().mark(), since: (m) => fake().writeCounter().since(m) },
    spec: (ns) => ({
      pattern: "reconciler",
      inputs: { issuer: { configMapKeyRef: { name: "cluster-facts", key: "oidcIssuer" } } },
      ensure: {
        kind: "azure-federated-credential",
        with: {
          subscriptionId: azure!.subscriptionId,
          resourceGroup: "platform",
          identityNames: [identity],
          namePrefix: "conf-fan-",
          issuer: { input: "issuer" },
          serviceAccounts: {
            namespaceSelector: { matchLabels: { "conformance.reseed.dev/fic": ns } },
            selector: { matchLabels: { "conformance.reseed.dev/workspace": "yes" } },
          },
          prune: true,
          armEndpoint: fake().url,
        },
      },
    }),
    setup: async (admin, ns) => {
      removedEnv.clear();
      await admin.putConfigMap(ns, "cluster-facts", { oidcIssuer: "https://oidc.conformance.internal/cluster-1" });
      await admin.labelNamespace(ns, { "conformance.reseed.dev/fic": ns });
      await workspace(admin, ns, "ws-1");
    },
    removeInput: {
      issuer: (admin, ns) => admin.putConfigMap(ns, "cluster-facts", {}),
      "env AZURE_CLIENT_ID": async () => void removedEnv.add("AZURE_CLIENT_ID"),
      "env AZURE_TENANT_ID": async () => void removedEnv.add("AZURE_TENANT_ID"),
      "env AZURE_FEDERATED_TOKEN_FILE": async () => void removedEnv.add("AZURE_FEDERATED_TOKEN_FILE"),
    },
    addTarget: async (admin, ns) => {
      await workspace(admin, ns, "ws-2");
      return [`arm PUT ${identity}/conf-fan-${ns}_ws-2`];
    },
    deleteState: async () => {
      for (const name of [...creds().keys()]) if (name.startsWith("conf-fan-")) creds().delete(name);
    },
    writtenSecrets: async () => [azure!.assertion, ...azure!.entra.issued()],
  };
}
