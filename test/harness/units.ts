// A unit as the integration tests run it: the SeedingUnit document, and the namespace whose
// ServiceAccount `unit` holds exactly what the unit declares, as the chart grants it in a
// cluster. One copy for the test files that each wrote these the same way.
import { unitPermissions } from "../../steps/runtime/permissions.js";
import { loadUnit } from "../../steps/runtime/unit.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";
import type { KubeAccess } from "./kube.js";
import type { Admin } from "./kube-admin.js";

const registry = await loadKinds(kinds);

export type SeedingUnit = ReturnType<typeof seedingUnit>;

/** A reconciler unit `name` that ensures `ensure`; `extra` adds to its spec (inputs, dependencies). */
export function seedingUnit(
  name: string,
  ensure: { kind: string; with: Record<string, unknown> },
  extra: Record<string, unknown> = {},
) {
  return {
    apiVersion: "reseed.dev/v1alpha1",
    kind: "SeedingUnit",
    metadata: { name },
    spec: { pattern: "reconciler", ...extra, ensure },
  };
}

/** Namespace `ns` with ServiceAccount `unit` granted what `unit` declares; returns its token kubeconfig. */
export async function unitKubeconfig(kube: KubeAccess, admin: Admin, ns: string, unit: unknown): Promise<string> {
  await admin.namespace(ns);
  const kubeconfig = await kube.kubeconfigFor(ns, "unit");
  await admin.grant(ns, "unit", unitPermissions(loadUnit(unit, registry), ns));
  return kubeconfig;
}
