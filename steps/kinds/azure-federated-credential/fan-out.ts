// The Kubernetes side of a federated-credential fan-out: which ServiceAccounts match.
import { ALL_NAMESPACES, type PolicyRule } from "../../core/access.js";
import type { KindContext } from "../kind.js";
import { selectorString, type LabelSelector } from "../../core/selector.js";

export interface ServiceAccountSelector {
  selector?: LabelSelector | undefined;
  namespaceSelector?: LabelSelector | undefined;
}

/** Cluster-wide lists, names unknown in advance: no resourceNames can narrow them. Nothing is written in Kubernetes. */
export function fanOutPermissions(sel: ServiceAccountSelector): PolicyRule[] {
  return [
    ...(sel.namespaceSelector
      ? [{ namespace: ALL_NAMESPACES, apiGroups: [""], resources: ["namespaces"], verbs: ["list"] }]
      : []),
    { namespace: ALL_NAMESPACES, apiGroups: [""], resources: ["serviceaccounts"], verbs: ["list"] },
  ];
}

/** Two reads at most, whatever the number of matches: the namespaces, then the ServiceAccounts. */
export async function matchingServiceAccounts(
  ctx: KindContext,
  sel: ServiceAccountSelector,
): Promise<{ namespace: string; name: string }[]> {
  const { core } = ctx.kube();
  const namespaces = sel.namespaceSelector
    ? new Set(
        (await core.listNamespace({ labelSelector: selectorString(sel.namespaceSelector) })).items
          .filter((n) => n.status?.phase !== "Terminating")
          .map((n) => n.metadata!.name!),
      )
    : undefined;
  const list = await core.listServiceAccountForAllNamespaces(
    sel.selector ? { labelSelector: selectorString(sel.selector) } : {},
  );
  return list.items
    .map((sa) => ({ namespace: sa.metadata!.namespace!, name: sa.metadata!.name! }))
    .filter((sa) => !namespaces || namespaces.has(sa.namespace));
}
