import { accessRules, apiGroupOf, pluralOf, type PolicyRule } from "../core/access.js";
import type { LoadedUnit } from "./unit.js";

/**
 * Every RBAC rule a unit's service account needs, and nothing more: evidence and Argo's
 * executor in the namespace the workflow runs in, a get on each input and dependency object it names, and
 * what its kind's `access` names. The chart's _rbac.tpl renders the same rules from the same
 * declarations (generated into _kinds.tpl; test/chart checks every kind and store).
 */
export function unitPermissions(loaded: LoadedUnit, namespace: string, workflowNamespace = namespace): PolicyRule[] {
  const { unit, kind, settings } = loaded;
  const rules: PolicyRule[] = [
    { namespace: workflowNamespace, apiGroups: ["events.k8s.io"], resources: ["events"], verbs: ["create"] },
    {
      namespace: workflowNamespace,
      apiGroups: ["argoproj.io"],
      resources: ["workflowtaskresults"],
      verbs: ["create", "patch"],
    },
  ];
  for (const ref of Object.values(unit.spec.inputs)) {
    if ("secretKeyRef" in ref)
      rules.push({
        namespace: ref.secretKeyRef.namespace ?? namespace,
        apiGroups: [""],
        resources: ["secrets"],
        verbs: ["get"],
        resourceNames: [ref.secretKeyRef.name],
      });
    if ("configMapKeyRef" in ref)
      rules.push({
        namespace: ref.configMapKeyRef.namespace ?? namespace,
        apiGroups: [""],
        resources: ["configmaps"],
        verbs: ["get"],
        resourceNames: [ref.configMapKeyRef.name],
      });
  }
  for (const dep of [...unit.spec.dependencies, ...kind.dependencies(settings, namespace)]) {
    if ("kubernetes" in dep) {
      const k = dep.kubernetes;
      rules.push({
        namespace: k.namespace ?? namespace,
        apiGroups: [apiGroupOf(k.apiVersion)],
        resources: [pluralOf(k)],
        verbs: ["get"],
        resourceNames: [k.name],
      });
    }
  }
  rules.push(...accessRules(kind.access, settings, namespace), ...(kind.clusterAccess?.(settings) ?? []));
  return mergeRules(rules);
}

/** Folds rules that differ only in resourceNames, so each namespace gets one short Role. */
export function mergeRules(rules: PolicyRule[]): PolicyRule[] {
  const merged = new Map<string, PolicyRule>();
  for (const r of rules) {
    const key = JSON.stringify([
      r.namespace,
      r.apiGroups,
      r.resources,
      [...r.verbs].sort(),
      r.resourceNames ? "named" : "any",
    ]);
    const prev = merged.get(key);
    if (!prev)
      merged.set(key, {
        ...r,
        verbs: [...r.verbs].sort(),
        ...(r.resourceNames ? { resourceNames: [...r.resourceNames] } : {}),
      });
    else if (prev.resourceNames && r.resourceNames)
      prev.resourceNames = [...new Set([...prev.resourceNames, ...r.resourceNames])].sort();
  }
  return [...merged.values()];
}
