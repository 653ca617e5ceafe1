import { randomBytes } from "node:crypto";
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  RbacAuthorizationV1Api,
  type ApiConstructor,
  type ApiType,
} from "@kubernetes/client-node";
import { describe, expect, inject, it } from "vitest";
import { connectKube } from "./kube.js";

const kube = connectKube(inject("kube"));

function client<T extends ApiType>(kubeconfig: string, api: ApiConstructor<T>): T {
  const config = new KubeConfig();
  config.loadFromFile(kubeconfig);
  return config.makeApiClient(api);
}

// Without a controller-manager a deleted namespace never goes away, so each test uses fresh names.
const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;

async function eventually<T>(attempt: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

describe("the test kube-apiserver", () => {
  it("lets the admin create a namespace", async () => {
    const core = client(kube.adminKubeconfig, CoreV1Api);
    const name = uniqueName("admin");
    await core.createNamespace({ body: { metadata: { name } } });
    expect((await core.readNamespace({ name })).metadata?.name).toBe(name);
  });

  it("enforces RBAC on a service account and audits exactly its writes", async () => {
    const namespace = uniqueName("rbac");
    const user = `system:serviceaccount:${namespace}:seeder`;
    const asSeeder = client(await kube.kubeconfigFor(namespace, "seeder"), CoreV1Api);
    const admin = client(kube.adminKubeconfig, CoreV1Api);
    await admin.createNamespacedSecret({ namespace, body: { metadata: { name: "existing" }, stringData: { k: "v" } } });

    await expect(asSeeder.readNamespacedSecret({ name: "existing", namespace })).rejects.toMatchObject({ code: 403 });

    const rbac = client(kube.adminKubeconfig, RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace,
      body: {
        metadata: { name: "secrets" },
        rules: [{ apiGroups: [""], resources: ["secrets"], verbs: ["get", "create"] }],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name: "seeder-secrets" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "secrets" },
        subjects: [{ kind: "ServiceAccount", name: "seeder", namespace }],
      },
    });
    // The authorizer reads RBAC objects from a watch cache, a moment behind the writes.
    await eventually(() => asSeeder.readNamespacedSecret({ name: "existing", namespace }));

    let mark = await kube.auditMark();
    await asSeeder.createNamespacedSecret({ namespace, body: { metadata: { name: "made" }, stringData: { k: "v" } } });
    expect(await kube.writesSince(mark, { user })).toEqual([
      { verb: "create", user, namespace, resource: "secrets", name: "made", code: 201 },
    ]);

    mark = await kube.auditMark();
    await asSeeder.readNamespacedSecret({ name: "made", namespace });
    expect(await kube.writesSince(mark, { user })).toEqual([]);
    expect(await kube.requestsSince(mark, { user })).toMatchObject([
      { verb: "get", resource: "secrets", name: "made", code: 200 },
    ]);
  });

  it("serves the Argo CRDs with their full schemas", async () => {
    const crds = client(kube.adminKubeconfig, ApiextensionsV1Api);
    for (const name of ["cronworkflows.argoproj.io", "workflowtemplates.argoproj.io", "workflows.argoproj.io"]) {
      const crd = await crds.readCustomResourceDefinition({ name });
      expect(crd.status?.conditions).toContainEqual(expect.objectContaining({ type: "Established", status: "True" }));
    }

    const namespace = uniqueName("argo");
    await client(kube.adminKubeconfig, CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
    const objects = client(kube.adminKubeconfig, CustomObjectsApi);
    const cronWorkflow = (concurrencyPolicy: unknown) => ({
      group: "argoproj.io",
      version: "v1alpha1",
      plural: "cronworkflows",
      namespace,
      dryRun: "All",
      body: {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "CronWorkflow",
        metadata: { name: "nightly" },
        spec: {
          schedules: ["0 3 * * *"],
          concurrencyPolicy,
          workflowSpec: { entrypoint: "main", templates: [{ name: "main", container: { image: "busybox" } }] },
        },
      },
    });

    const mark = await kube.auditMark();
    await expect(objects.createNamespacedCustomObject(cronWorkflow("Forbid"))).resolves.toMatchObject({
      kind: "CronWorkflow",
    });
    await expect(objects.createNamespacedCustomObject(cronWorkflow(7))).rejects.toMatchObject({
      code: 422,
      body: expect.stringContaining("spec.concurrencyPolicy"),
    });

    // Dry runs are requests, not writes.
    expect(await kube.requestsSince(mark, { namespace })).toMatchObject([
      { verb: "create", resource: "cronworkflows", code: 201, dryRun: true },
      { verb: "create", resource: "cronworkflows", code: 422, dryRun: true },
    ]);
    expect(await kube.writesSince(mark, { namespace })).toEqual([]);
  });
});
