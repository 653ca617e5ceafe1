import type { SeedingUnit } from "./spec.js";
import type { UnitValues } from "./values.js";

/**
 * The SeedingUnit the chart renders for `values.units.<name>`: the unit-spec fields only,
 * namespace defaulted to the release namespace. The chart template does the same in Helm;
 * test/chart checks that both agree, so this stays the one definition of the mapping.
 */
export function unitFromValues(name: string, v: UnitValues, releaseNamespace: string): SeedingUnit {
  return {
    apiVersion: "reseed.dev/v1alpha1",
    kind: "SeedingUnit",
    metadata: { name },
    spec: {
      pattern: v.pattern,
      managed: v.managed,
      ...(v.runId ? { runId: v.runId } : {}),
      namespace: v.namespace ?? releaseNamespace,
      inputs: v.inputs,
      dependencies: v.dependencies,
      waitTimeoutSeconds: v.waitTimeoutSeconds,
      ensure: v.ensure,
    },
  };
}
