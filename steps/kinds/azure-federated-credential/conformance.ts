// Conformance cases of azure-federated-credential (test code, run by
// test/conformance/conformance.test.ts): against the FAKE ARM and Entra endpoints of
// test/harness/fake-arm.ts (no emulator exists), which count the writes; one credential, and
// a fan-out to the ServiceAccounts a selector matches, one more of which appears between two
// runs (addTarget).
import type { Admin } from "../../../test/harness/kube-admin.js";
import { startFakeArm, type FakeArmSetup } from "../../../test/harness/fake-arm.js";
import { reconciler, type ConformanceCase } from "../../../test/conformance/cases.js";

const issuerInput = { issuer: { configMapKeyRef: { name: "cluster-facts", key: "oidcIssuer" } } };

/**
 * What both cases share: a fake ARM holding one managed identity, started by servers(), and
 * the step environment, from which removeInput takes the workload identity's variables away.
 */
function fakeArmCase(identity: string) {
  let azure: FakeArmSetup | undefined;
  const removedEnv = new Set<string>();
  const fake = () => azure!.fake;
  const without = (name: string) => async () => void removedEnv.add(name);
  return {
    azure: () => azure!,
    fake,
    parts: {
      servers: async () => {
        azure ??= await startFakeArm();
        fake().addIdentity(azure.subscriptionId, "platform", identity);
      },
      stepEnv: () => Object.fromEntries(Object.entries(azure!.env()).filter(([k]) => !removedEnv.has(k))),
      authorityWrites: { mark: () => fake().writeCounter().mark(), since: (m) => fake().writeCounter().since(m) },
      removeInput: {
        issuer: (admin, ns) => admin.putConfigMap(ns, "cluster-facts", {}),
        "env AZURE_CLIENT_ID": without("AZURE_CLIENT_ID"),
        "env AZURE_TENANT_ID": without("AZURE_TENANT_ID"),
        "env AZURE_FEDERATED_TOKEN_FILE": without("AZURE_FEDERATED_TOKEN_FILE"),
      },
      writtenSecrets: async () => [azure!.assertion, ...azure!.entra.issued()],
    } satisfies Partial<ConformanceCase>,
    /** Puts the issuer in place and every variable back. */
    setup: async (admin: Admin, ns: string) => {
      removedEnv.clear();
      await admin.putConfigMap(ns, "cluster-facts", { oidcIssuer: "https://oidc.conformance.internal/cluster-1" });
    },
    stop: async () => {
      await azure?.fake.stop();
      azure = undefined;
    },
  };
}

function oneCredential(): ConformanceCase {
  const arm = fakeArmCase("coder-workspaces");
  return {
    ...arm.parts,
    spec: () =>
      reconciler(
        "azure-federated-credential",
        {
          subscriptionId: arm.azure().subscriptionId,
          resourceGroup: "platform",
          identityName: "coder-workspaces",
          name: "conformance-workspaces",
          issuer: { input: "issuer" },
          serviceAccount: { name: "coder-workspace" },
          armEndpoint: arm.fake().url,
        },
        issuerInput,
      ),
    setup: arm.setup,
    deleteState: async () => {
      arm
        .fake()
        .credentials(arm.azure().subscriptionId, "platform", "coder-workspaces")
        ?.delete("conformance-workspaces");
    },
  };
}

function serviceAccountsFanOut(): ConformanceCase {
  const identity = "coder-ws-fan-out";
  const arm = fakeArmCase(identity);
  const creds = () => arm.fake().credentials(arm.azure().subscriptionId, "platform", identity)!;
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
    ...arm.parts,
    stopServers: arm.stop,
    spec: (ns) =>
      reconciler(
        "azure-federated-credential",
        {
          subscriptionId: arm.azure().subscriptionId,
          resourceGroup: "platform",
          identityNames: [identity],
          namePrefix: "conf-fan-",
          issuer: { input: "issuer" },
          serviceAccounts: {
            namespaceSelector: { matchLabels: { "conformance.reseed.dev/fic": ns } },
            selector: { matchLabels: { "conformance.reseed.dev/workspace": "yes" } },
          },
          prune: true,
          armEndpoint: arm.fake().url,
        },
        issuerInput,
      ),
    setup: async (admin, ns) => {
      await arm.setup(admin, ns);
      await admin.labelNamespace(ns, { "conformance.reseed.dev/fic": ns });
      await workspace(admin, ns, "ws-1");
    },
    addTarget: async (admin, ns) => {
      await workspace(admin, ns, "ws-2");
      return [`arm PUT ${identity}/conf-fan-${ns}_ws-2`];
    },
    deleteState: async () => {
      for (const name of [...creds().keys()]) if (name.startsWith("conf-fan-")) creds().delete(name);
    },
  };
}

export const conformance = [oneCredential(), serviceAccountsFanOut()];
