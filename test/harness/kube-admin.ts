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

const isStatus = (err: unknown, code: number) => (err as { code?: number }).code === code;

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
    try {
      await this.core.createNamespace({ body: { metadata: { name } } });
    } catch (err) {
      if (!isStatus(err, 409)) throw err;
    }
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
    try {
      const s = await this.core.readNamespacedSecret({ name, namespace });
      return Object.fromEntries(
        Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]),
      );
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
  }

  async deleteSecret(namespace: string, name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedSecret({ name, namespace });
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }

  async putConfigMap(namespace: string, name: string, data: Record<string, string>): Promise<void> {
    await this.deleteConfigMap(namespace, name);
    await this.core.createNamespacedConfigMap({ namespace, body: { metadata: { name, namespace }, data } });
  }

  async readConfigMap(namespace: string, name: string): Promise<Record<string, string> | undefined> {
    try {
      return (await this.core.readNamespacedConfigMap({ name, namespace })).data ?? {};
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
  }

  async deleteConfigMap(namespace: string, name: string): Promise<void> {
    try {
      await this.core.deleteNamespacedConfigMap({ name, namespace });
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
  }

  /**
   * One Role per namespace the rules touch, bound to the unit's service account; rules in
   * ALL_NAMESPACES go to one ClusterRole (named after both, as the chart does).
   */
  async grant(saNamespace: string, serviceAccount: string, rules: PolicyRule[]): Promise<void> {
    const byNamespace = new Map<string, PolicyRule[]>();
    for (const r of rules) byNamespace.set(r.namespace, [...(byNamespace.get(r.namespace) ?? []), r]);
    const clusterName = `${saNamespace}:reseed-${serviceAccount}`;
    try {
      await this.rbac.deleteClusterRole({ name: clusterName });
    } catch (err) {
      if (!isStatus(err, 404)) throw err;
    }
    const cluster = byNamespace.get(ALL_NAMESPACES);
    byNamespace.delete(ALL_NAMESPACES);
    if (cluster) {
      await this.rbac.createClusterRole({ body: { metadata: { name: clusterName }, rules: cluster.map(toRbacRule) } });
      try {
        await this.rbac.createClusterRoleBinding({
          body: {
            metadata: { name: clusterName },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: clusterName },
            subjects: [{ kind: "ServiceAccount", name: serviceAccount, namespace: saNamespace }],
          },
        });
      } catch (err) {
        if (!isStatus(err, 409)) throw err;
      }
    }
    for (const [namespace, rs] of byNamespace) {
      await this.namespace(namespace);
      const name = `reseed-${serviceAccount}`;
      const role = {
        metadata: { name, namespace },
        rules: rs.map(toRbacRule),
      };
      try {
        await this.rbac.deleteNamespacedRole({ name, namespace });
      } catch (err) {
        if (!isStatus(err, 404)) throw err;
      }
      await this.rbac.createNamespacedRole({ namespace, body: role });
      try {
        await this.rbac.createNamespacedRoleBinding({
          namespace,
          body: {
            metadata: { name, namespace },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
            subjects: [{ kind: "ServiceAccount", name: serviceAccount, namespace: saNamespace }],
          },
        });
      } catch (err) {
        if (!isStatus(err, 409)) throw err;
      }
    }
  }

  async eventNotes(namespace: string): Promise<string[]> {
    const list = await this.events.listNamespacedEvent({ namespace });
    return list.items.map((e) => JSON.stringify(e));
  }
}
