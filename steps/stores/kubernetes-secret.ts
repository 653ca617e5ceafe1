import type { V1Secret } from "@kubernetes/client-node";
import { z } from "zod";
import type { PolicyRule } from "../core/kind.js";
import { isNotFound } from "../core/kube.js";
import { k8sName } from "../core/spec.js";
import { managedMetadata } from "../kinds/metadata.js";
import type { SecretStore } from "./store.js";
import type { StoreContext } from "./context.js";

export const kubernetesSecretLocation = z.strictObject({
  kubernetesSecret: z.strictObject({ name: k8sName, namespace: k8sName.optional() }),
});

const b64 = (v: string) => Buffer.from(v, "utf8").toString("base64");
const unb64 = (v: string) => Buffer.from(v, "base64").toString("utf8");

export function kubernetesSecretPermissions(loc: z.infer<typeof kubernetesSecretLocation>["kubernetesSecret"], namespace: string, access: "read" | "write" = "write"): PolicyRule[] {
  const ns = loc.namespace ?? namespace;
  if (access === "read") return [{ namespace: ns, apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: [loc.name] }];
  return [
    { namespace: ns, apiGroups: [""], resources: ["secrets"], verbs: ["get", "update", "patch"], resourceNames: [loc.name] },
    { namespace: ns, apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
  ];
}

export function kubernetesSecretStore(loc: z.infer<typeof kubernetesSecretLocation>["kubernetesSecret"], ctx: StoreContext): SecretStore {
  const namespace = loc.namespace ?? ctx.namespace;
  let lastRead: V1Secret | undefined;
  return {
    describe: () => `Kubernetes Secret ${namespace}/${loc.name}`,
    async read(keys) {
      try {
        lastRead = await ctx.kube().core.readNamespacedSecret({ name: loc.name, namespace });
      } catch (err) {
        if (isNotFound(err)) return (lastRead = undefined);
        throw err;
      }
      const data = Object.fromEntries(Object.entries(lastRead.data ?? {}).map(([k, v]) => [k, unb64(v)]));
      for (const v of Object.values(data)) ctx.redactor.register(v);
      return keys ? Object.fromEntries(keys.filter((k) => k in data).map((k) => [k, data[k]!])) : data;
    },
    async list() {
      return Object.keys((await this.read()) ?? {}).sort();
    },
    // Writes against the Secret last read (with its resourceVersion), so a concurrent
    // writer makes the run fail instead of being overwritten.
    async write(values) {
      for (const v of Object.values(values)) ctx.redactor.register(v);
      const meta = { unit: ctx.unit.metadata.name, target: loc, namespace };
      const data = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, b64(v)]));
      if (!lastRead) {
        lastRead = await ctx.kube().core.createNamespacedSecret({ namespace, body: { metadata: managedMetadata(meta), type: "Opaque", data } });
        return;
      }
      lastRead = await ctx.kube().core.replaceNamespacedSecret({
        name: loc.name,
        namespace,
        body: { ...lastRead, metadata: managedMetadata({ ...meta, current: lastRead.metadata }), data: { ...lastRead.data, ...data } },
      });
    },
    async remove(keys) {
      if (!lastRead) await this.read();
      if (!lastRead) return;
      const data = Object.fromEntries(Object.entries(lastRead.data ?? {}).filter(([k]) => !keys.includes(k)));
      lastRead = await ctx.kube().core.replaceNamespacedSecret({ name: loc.name, namespace, body: { ...lastRead, data } });
    },
  };
}
