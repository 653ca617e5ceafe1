import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  EventsV1Api,
  KubeConfig,
  RbacAuthorizationV1Api,
} from "@kubernetes/client-node";
import { ALL_NAMESPACES, type PolicyRule } from "../../steps/core/access.js";

const toRbacRule = (r: PolicyRule) => ({
  apiGroups: r.apiGroups,
  resources: r.resources,
  verbs: r.verbs,
  ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}),
});

/**
 * `call`'s result, or undefined where the server answers `status`: the answer that means the
 * state a step of the harness wants already holds (404 to a read or delete, 409 to a create).
 * Any other failure throws.
 */
async function tolerating<T>(status: 404 | 409, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    if ((err as { code?: number }).code === status) return undefined;
    throw err;
  }
}

/** What tests do as cluster admin: set up inputs, break state, grant a unit's Role, read events. */
export class Admin {
  readonly core: CoreV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  readonly events: EventsV1Api;
  readonly crds: ApiextensionsV1Api;
  readonly custom: CustomObjectsApi;

  constructor(kubeconfig: string) {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    this.core = kc.makeApiClient(CoreV1Api);
    this.rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    this.events = kc.makeApiClient(EventsV1Api);
    this.crds = kc.makeApiClient(ApiextensionsV1Api);
    this.custom = kc.makeApiClient(CustomObjectsApi);
  }

  async namespace(name: string): Promise<void> {
    await tolerating(409, () => this.core.createNamespace({ body: { metadata: { name } } }));
  }

  /** Sets (a string) or removes (null) labels of a namespace, creating it first if needed. */
  async labelNamespace(name: string, labels: Record<string, string | null>): Promise<void> {
    await this.namespace(name);
    const current = await this.core.readNamespace({ name });
    const merged: Record<string, string | null> = { ...current.metadata?.labels, ...labels };
    for (const [k, v] of Object.entries(merged)) if (v === null) delete merged[k];
    await this.core.replaceNamespace({
      name,
      body: { ...current, metadata: { ...current.metadata, labels: merged as Record<string, string> } },
    });
  }

  async putSecret(namespace: string, name: string, data: Record<string, string>): Promise<void> {
    const body = { metadata: { name, namespace }, stringData: data };
    await this.deleteSecret(namespace, name);
    await this.core.createNamespacedSecret({ namespace, body });
  }

  async readSecret(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const s = await tolerating(404, () => this.core.readNamespacedSecret({ name, namespace }));
    return (
      s &&
      Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]))
    );
  }

  async deleteSecret(namespace: string, name: string): Promise<void> {
    await tolerating(404, () => this.core.deleteNamespacedSecret({ name, namespace }));
  }

  async putConfigMap(namespace: string, name: string, data: Record<string, string>): Promise<void> {
    await this.deleteConfigMap(namespace, name);
    await this.core.createNamespacedConfigMap({ namespace, body: { metadata: { name, namespace }, data } });
  }

  async readConfigMap(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    const c = await tolerating(404, () => this.core.readNamespacedConfigMap({ name, namespace }));
    return c && (c.data ?? {});
  }

  async deleteConfigMap(namespace: string, name: string): Promise<void> {
    await tolerating(404, () => this.core.deleteNamespacedConfigMap({ name, namespace }));
  }

  /**
   * One Role per namespace the rules touch, bound to the unit's service account; rules in
   * ALL_NAMESPACES go to one ClusterRole (named after both, as the chart does).
   */
  async grant(saNamespace: string, serviceAccount: string, rules: PolicyRule[]): Promise<void> {
    const byNamespace = new Map<string, PolicyRule[]>();
    for (const r of rules) byNamespace.set(r.namespace, [...(byNamespace.get(r.namespace) ?? []), r]);
    const clusterName = `${saNamespace}:reseed-${serviceAccount}`;
    await tolerating(404, () => this.rbac.deleteClusterRole({ name: clusterName }));
    const cluster = byNamespace.get(ALL_NAMESPACES);
    byNamespace.delete(ALL_NAMESPACES);
    if (cluster) {
      await this.rbac.createClusterRole({ body: { metadata: { name: clusterName }, rules: cluster.map(toRbacRule) } });
      await tolerating(409, () =>
        this.rbac.createClusterRoleBinding({
          body: {
            metadata: { name: clusterName },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterName },
            subjects: [{ kind: "ServiceAccount", name: serviceAccount, namespace: saNamespace }],
          },
        }),
      );
    }
    for (const [namespace, rs] of byNamespace) {
      await this.namespace(namespace);
      const name = `reseed-${serviceAccount}`;
      const role = {
        metadata: { name, namespace },
        rules: rs.map(toRbacRule),
      };
      await tolerating(404, () => this.rbac.deleteNamespacedRole({ name, namespace }));
      await this.rbac.createNamespacedRole({ namespace, body: role });
      await tolerating(409, () =>
        this.rbac.createNamespacedRoleBinding({
          namespace,
          body: {
            metadata: { name, namespace },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
            subjects: [{ kind: "ServiceAccount", name: serviceAccount, namespace: saNamespace }],
          },
        }),
      );
    }
  }

  async eventNotes(namespace: string): Promise<string[]> {
    const list = await this.events.listNamespacedEvent({ namespace });
    return list.items.map((e) => JSON.stringify(e));
  }
}
