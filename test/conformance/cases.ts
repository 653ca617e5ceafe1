import type { Admin } from "../support/admin.js";
import { generatedSecretAuthorityCases, secretSyncCases } from "./authority-cases.js";

/**
 * Counts writes at an authority other than the Kubernetes API (Vault's audit device,
 * Keycloak admin events, PostgreSQL statement counts, a loopback proxy in front of a
 * service): never counted by the code under test.
 */
export interface WriteCounter {
  mark(): Promise<number>;
  /** Human-readable descriptions of the writes since the mark, e.g. "PUT secret/data/app". */
  since(mark: number): Promise<string[]>;
}

export interface ConformanceCase {
  /** Tells apart several cases of one kind, e.g. the store it writes to. */
  name?: string;
  /** Starts or reaches the external servers the kind needs (once per test file). */
  servers?(): Promise<void>;
  /** Environment for the step processes: server addresses, CA bundles (never secret values). */
  stepEnv?(ns: string): Record<string, string>;
  /** Writes at the authority the kind writes to, when that is not the Kubernetes API. */
  authorityWrites?: WriteCounter;
  /** pattern, inputs and ensure of the unit; the suite adds a canary secret input. */
  spec(ns: string): { pattern: string; inputs: Record<string, unknown>; ensure: { kind: string; with: Record<string, unknown> } };
  setup(admin: Admin, ns: string): Promise<void>;
  /** How to take away each required input of the kind's own (the canary is handled by the suite). */
  removeInput: Record<string, (admin: Admin, ns: string) => Promise<void>>;
  /** Loses the seeded state the way a cluster recreate or a DB reset would. */
  deleteState(admin: Admin, ns: string): Promise<void>;
  /** P3 only: the operator, not reseed, restores its resource; the test plays the operator. */
  operatorRestores?(admin: Admin, ns: string): Promise<void>;
  /** Secret values the kind itself wrote, which must appear in no log, output or event. */
  writtenSecrets(admin: Admin, ns: string): Promise<string[]>;
}

const widgetCrd = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.conformance.reseed.dev" },
  spec: {
    group: "conformance.reseed.dev",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        subresources: { status: {} },
        // The client serialises typed fields only: x_kubernetes_… is the model name of x-kubernetes-….
        schema: { openAPIV3Schema: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
      },
    ],
  },
};

async function readyWidget(admin: Admin, ns: string): Promise<void> {
  const ref = { group: "conformance.reseed.dev", version: "v1", namespace: ns, plural: "widgets" };
  const created = (await admin.custom.createNamespacedCustomObject({
    ...ref,
    body: { apiVersion: "conformance.reseed.dev/v1", kind: "Widget", metadata: { name: "w1" } },
  })) as Record<string, unknown>;
  await admin.custom.replaceNamespacedCustomObjectStatus({
    ...ref,
    name: "w1",
    body: { ...created, status: { conditions: [{ type: "Ready", status: "True", reason: "Reconciled" }] } },
  });
}

// One entry per registered kind (several for a kind with several stores): the suite fails
// for a kind that has none.
export const cases: Record<string, ConformanceCase | ConformanceCase[]> = {
  "secret-sync": secretSyncCases,
  "generated-secret": [{
    spec: () => ({
      pattern: "reconciler",
      inputs: {},
      ensure: { kind: "generated-secret", with: { secret: { name: "app-credentials" }, keys: [{ name: "password" }, { name: "api-key", length: 48, charset: "base64url" }] } },
    }),
    setup: async () => {},
    removeInput: {},
    deleteState: (admin, ns) => admin.deleteSecret(ns, "app-credentials"),
    writtenSecrets: async (admin, ns) => Object.values((await admin.readSecret(ns, "app-credentials")) ?? {}),
  }, ...generatedSecretAuthorityCases],

  "runtime-facts": {
    spec: () => ({
      pattern: "reconciler",
      inputs: { issuer: { configMapKeyRef: { name: "infra", key: "issuer" } }, clusterName: { value: "conformance" } },
      ensure: { kind: "runtime-facts", with: { configMap: { name: "cluster-facts" }, facts: { oidcIssuer: { input: "issuer" }, clusterName: { input: "clusterName" }, tier: "dev" } } },
    }),
    setup: (admin, ns) => admin.putConfigMap(ns, "infra", { issuer: "https://oidc.conformance.internal" }),
    removeInput: { issuer: (admin, ns) => admin.putConfigMap(ns, "infra", {}) },
    deleteState: (admin, ns) => admin.deleteConfigMap(ns, "cluster-facts"),
    writtenSecrets: async () => [],
  },

  "operator-ready": {
    spec: () => ({
      pattern: "operator",
      inputs: {},
      ensure: { kind: "operator-ready", with: { resources: [{ apiVersion: "conformance.reseed.dev/v1", kind: "Widget", name: "w1" }] } },
    }),
    setup: async (admin, ns) => {
      try {
        await admin.crds.createCustomResourceDefinition({ body: widgetCrd });
      } catch (err) {
        if ((err as { code?: number }).code !== 409) throw err;
      }
      for (let i = 0; i < 50; i++) {
        const crd = await admin.crds.readCustomResourceDefinition({ name: widgetCrd.metadata.name });
        if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await readyWidget(admin, ns);
    },
    removeInput: {},
    deleteState: async (admin, ns) => {
      await admin.custom.deleteNamespacedCustomObject({ group: "conformance.reseed.dev", version: "v1", namespace: ns, plural: "widgets", name: "w1" });
    },
    operatorRestores: readyWidget,
    writtenSecrets: async () => [],
  },
};

export function casesOf(kind: string): (ConformanceCase | undefined)[] {
  const c = cases[kind];
  return c === undefined ? [undefined] : Array.isArray(c) ? c : [c];
}
