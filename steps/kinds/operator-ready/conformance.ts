// Conformance case of operator-ready (test code, run by test/conformance/conformance.test.ts):
// a Widget custom resource whose Ready condition the test sets, playing the operator.
import type { Admin } from "../../../test/harness/kube-admin.js";
import type { ConformanceCase } from "../../../test/conformance/cases.js";

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

/** Deletes widget w1 if it is there: the state the operator-ready case checks. */
async function deleteWidget(admin: Admin, ns: string): Promise<void> {
  try {
    await admin.custom.deleteNamespacedCustomObject({
      group: "conformance.reseed.dev",
      version: "v1",
      namespace: ns,
      plural: "widgets",
      name: "w1",
    });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
}

/** Plays the operator: widget w1, created afresh, with its Ready condition True. */
async function readyWidget(admin: Admin, ns: string): Promise<void> {
  const ref = { group: "conformance.reseed.dev", version: "v1", namespace: ns, plural: "widgets" };
  await deleteWidget(admin, ns);
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

export const conformance: ConformanceCase = {
  spec: () => ({
    pattern: "operator",
    inputs: {},
    ensure: {
      kind: "operator-ready",
      with: { resources: [{ apiVersion: "conformance.reseed.dev/v1", kind: "Widget", name: "w1" }] },
    },
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
  deleteState: deleteWidget,
  operatorRestores: readyWidget,
  writtenSecrets: async () => [],
};
