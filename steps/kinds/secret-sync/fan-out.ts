// The I/O of a secret-sync fan-out: which namespaces match, the Secret each holds, and the
// writes planFanOut decided. Two reads per run whatever the number of namespaces: one list
// of matching namespaces, one list of the Secrets of that name across all namespaces.
import type { V1Secret } from "@kubernetes/client-node";
import { ALL_NAMESPACES, type PolicyRule } from "../../core/access.js";
import type { KindContext } from "../kind.js";
import { decodeSecretData, isNotFound } from "../../core/kube.js";
import { selectorString, type LabelSelector } from "../../core/selector.js";
import { writeManagedSecret } from "../../stores/kubernetes-secret.js";
import type { FanOutStep, FanOutTarget } from "./plan.js";

export interface FanOutLocation {
  name: string;
  namespaceSelector: LabelSelector;
}

/** The label a fan-out puts on each Secret it writes: what a prune looks for, and nothing else. */
export const FAN_OUT_LABEL = "reseed.dev/fan-out";

/**
 * A ClusterRole: the matching namespaces are known only at run time, and RBAC cannot follow
 * labels. resourceNames still pins every verb that carries a name (list included: the list
 * is made with a metadata.name field selector) to the one Secret name; create cannot be
 * pinned (the name is not known when it is authorized), and neither can the namespace list.
 */
export function fanOutPermissions(to: FanOutLocation, prune: boolean): PolicyRule[] {
  return [
    { namespace: ALL_NAMESPACES, apiGroups: [""], resources: ["namespaces"], verbs: ["list"] },
    {
      namespace: ALL_NAMESPACES,
      apiGroups: [""],
      resources: ["secrets"],
      verbs: ["list", "update", ...(prune ? ["delete"] : [])],
      resourceNames: [to.name],
    },
    { namespace: ALL_NAMESPACES, apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
  ];
}

export interface Targets {
  targets: FanOutTarget[];
  secrets: Map<string, V1Secret>;
}

export async function readTargets(ctx: KindContext, to: FanOutLocation): Promise<Targets> {
  const { core } = ctx.kube();
  const namespaces = await core.listNamespace({ labelSelector: selectorString(to.namespaceSelector) });
  // A terminating namespace refuses new objects; it is no target, and its Secret goes with it.
  const matching = new Set(
    namespaces.items.filter((n) => n.status?.phase !== "Terminating").map((n) => n.metadata!.name!),
  );
  const list = await core.listSecretForAllNamespaces({ fieldSelector: `metadata.name=${to.name}` });
  const secrets = new Map(list.items.map((s) => [s.metadata!.namespace!, s]));
  const targets: FanOutTarget[] = [];
  for (const ns of new Set([...matching, ...secrets.keys()])) {
    const secret = secrets.get(ns);
    const data = secret ? decodeSecretData(secret.data) : undefined;
    for (const v of Object.values(data ?? {})) ctx.redactor.register(v);
    targets.push({
      namespace: ns,
      matches: matching.has(ns),
      data,
      ours: secret?.metadata?.labels?.[FAN_OUT_LABEL] === ctx.unit.metadata.name,
    });
  }
  return { targets, secrets };
}

/** Carries out one namespace's step; the replace and the delete are made against the resourceVersion read. */
export async function applyStep(
  ctx: KindContext,
  to: FanOutLocation,
  step: FanOutStep,
  current: V1Secret | undefined,
): Promise<void> {
  if (step.delete) {
    try {
      await ctx.kube().core.deleteNamespacedSecret({
        name: to.name,
        namespace: step.namespace,
        body: { preconditions: { resourceVersion: current?.metadata?.resourceVersion } },
      });
      ctx.record({
        verb: "deleted",
        object: `Kubernetes Secret ${step.namespace}/${to.name}`,
        note: "the namespace no longer matches (prune)",
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    return;
  }
  if (!step.data) return;
  await writeManagedSecret(ctx, {
    target: { name: to.name, labels: { [FAN_OUT_LABEL]: ctx.unit.metadata.name } },
    namespace: step.namespace,
    current,
    data: step.data,
  });
}
