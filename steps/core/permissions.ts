import type { PolicyRule } from "./kind.js";
import type { LoadedUnit } from "./unit.js";

/**
 * The resource name for RBAC: the reference's own `resource`, or the kind's plural as the
 * Kubernetes code generators form it (Ingress → ingresses, NetworkPolicy → networkpolicies).
 * A custom resource whose CRD declares some other plural must name it in `resource`.
 * The chart's `reseed.plural` applies the same rule.
 */
export function pluralOf(r: { kind: string; resource?: string | undefined }): string {
  if (r.resource) return r.resource;
  const kind = r.kind.toLowerCase();
  if (kind === "endpoints") return kind;
  if (/(s|x|z|ch|sh)$/.test(kind)) return `${kind}es`;
  if (/[^aeiou]y$/.test(kind)) return `${kind.slice(0, -1)}ies`;
  return `${kind}s`;
}

export function apiGroupOf(apiVersion: string): string {
  return apiVersion.includes("/") ? apiVersion.split("/")[0]! : "";
}

/**
 * Every RBAC rule a unit's service account needs, and nothing more: evidence and Argo's
 * executor in the namespace the workflow runs in, a get on each input and dependency object it names, and
 * what its kind writes. The chart's _rbac.tpl renders the same rules (test/chart checks it).
 */
export function unitPermissions(loaded: LoadedUnit, namespace: string, workflowNamespace = namespace): PolicyRule[] {
  const { unit, kind, settings } = loaded;
  const rules: PolicyRule[] = [
    { namespace: workflowNamespace, apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create"] },
    { namespace: workflowNamespace, apiGroups: ["argoproj.io"], resources: ["workflowtaskresults"], verbs: ["create", "patch"] },
  ];
  for (const ref of Object.values(unit.spec.inputs)) {
    if ("secretKeyRef" in ref)
      rules.push({ namespace: ref.secretKeyRef.namespace ?? namespace, apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: [ref.secretKeyRef.name] });
    if ("configMapKeyRef" in ref)
      rules.push({ namespace: ref.configMapKeyRef.namespace ?? namespace, apiGroups: [""], resources: ["configmaps"], verbs: ["get"], resourceNames: [ref.configMapKeyRef.name] });
  }
  for (const dep of [...unit.spec.dependencies, ...kind.dependencies(settings, namespace)]) {
    if ("kubernetes" in dep) {
      const k = dep.kubernetes;
      rules.push({ namespace: k.namespace ?? namespace, apiGroups: [apiGroupOf(k.apiVersion)], resources: [pluralOf(k)], verbs: ["get"], resourceNames: [k.name] });
    }
  }
  rules.push(...kind.permissions(settings, namespace));
  return mergeRules(rules);
}

/** Folds rules that differ only in resourceNames, so each namespace gets one short Role. */
export function mergeRules(rules: PolicyRule[]): PolicyRule[] {
  const merged = new Map<string, PolicyRule>();
  for (const r of rules) {
    const key = JSON.stringify([r.namespace, r.apiGroups, r.resources, [...r.verbs].sort(), r.resourceNames ? "named" : "any"]);
    const prev = merged.get(key);
    if (!prev) merged.set(key, { ...r, verbs: [...r.verbs].sort(), ...(r.resourceNames ? { resourceNames: [...r.resourceNames] } : {}) });
    else if (prev.resourceNames && r.resourceNames) prev.resourceNames = [...new Set([...prev.resourceNames, ...r.resourceNames])].sort();
  }
  return [...merged.values()];
}
