import { randomBytes } from "node:crypto";
import { startCoderServer, type CoderServer } from "../harness/coder-server.js";
import type { Admin } from "../support/admin.js";

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
  /** Starts or reaches the external servers the kind needs (once per test file). */
  servers?(): Promise<void>;
  /** Stops what servers() started (after the file's last test). */
  stopServers?(): Promise<void>;
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

// One entry per registered kind: the suite fails for a kind that has none.
export const cases: Record<string, ConformanceCase> = {
  "generated-secret": {
    spec: () => ({
      pattern: "reconciler",
      inputs: {},
      ensure: { kind: "generated-secret", with: { secret: { name: "app-credentials" }, keys: [{ name: "password" }, { name: "api-key", length: 48, charset: "base64url" }] } },
    }),
    setup: async () => {},
    removeInput: {},
    deleteState: (admin, ns) => admin.deleteSecret(ns, "app-credentials"),
    writtenSecrets: async (admin, ns) => Object.values((await admin.readSecret(ns, "app-credentials")) ?? {}),
  },

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

  "coder-admin": coderAdminCase(),
};

// Coder on PostgreSQL, started once for the file; units talk to it through a counting
// proxy, so the writes counted are the requests Coder received. A "lost state" is what a
// cluster recreate does: Coder stopped, its database dropped and created empty, Coder started.
function coderAdminCase(): ConformanceCase {
  let coder: CoderServer | undefined;
  const server = () => {
    if (!coder) throw new Error("Coder is not running: servers() failed");
    return coder;
  };
  const owner = { email: "reseed-bootstrap@corp.internal", username: "reseed-bootstrap", password: `Pw-${randomBytes(18).toString("base64url")}` };
  const bootstrapSecret = (admin: Admin, ns: string, data: Record<string, string>) => admin.putSecret(ns, "coder-bootstrap-admin", data);
  const without = (key: keyof typeof owner) => (admin: Admin, ns: string) =>
    bootstrapSecret(admin, ns, Object.fromEntries(Object.entries(owner).filter(([k]) => k !== key)));
  return {
    servers: async () => {
      coder ??= await startCoderServer();
    },
    stopServers: async () => {
      await coder?.stop();
      coder = undefined;
    },
    authorityWrites: {
      mark: async () => server().writes.mark(),
      since: async (mark) => server().writes.since(mark),
    },
    spec: () => ({
      pattern: "reconciler",
      inputs: {
        ownerEmail: { secretKeyRef: { name: "coder-bootstrap-admin", key: "email" } },
        ownerUsername: { secretKeyRef: { name: "coder-bootstrap-admin", key: "username" } },
        ownerPassword: { secretKeyRef: { name: "coder-bootstrap-admin", key: "password" } },
        adminEmail: { value: "platform-admin@corp.internal" },
      },
      ensure: {
        kind: "coder-admin",
        with: {
          url: server().url,
          owner: { email: { input: "ownerEmail" }, username: { input: "ownerUsername" }, password: { input: "ownerPassword" } },
          admin: { email: { input: "adminEmail" }, username: "platform-admin", loginType: "oidc" },
          session: { kubernetesSecret: { name: "coder-reseed-session" } },
        },
      },
    }),
    setup: (admin, ns) => bootstrapSecret(admin, ns, owner),
    removeInput: { ownerEmail: without("email"), ownerUsername: without("username"), ownerPassword: without("password") },
    deleteState: () => server().resetDatabase(),
    writtenSecrets: async (admin, ns) => [owner.password, ...Object.values((await admin.readSecret(ns, "coder-reseed-session")) ?? {})],
  };
}
