import type { V1ObjectMeta } from "@kubernetes/client-node";
import * as z from "./zod.js";
import { k8sName } from "./spec.js";

/** A Kubernetes object a kind writes, with the labels and annotations the unit wants on it. */
export const managedObject = z.strictObject({
  name: k8sName,
  namespace: z.optional(k8sName),
  labels: z.optional(z.record(z.string(), z.string())),
  annotations: z.optional(z.record(z.string(), z.string())),
});
export type ManagedObject = z.infer<typeof managedObject>;

/**
 * Metadata for creating or replacing an object a unit seeds: what is already there is kept
 * (resourceVersion included, so a replace fails on a concurrent change), and the object is
 * marked for `kubectl get -l app.kubernetes.io/managed-by=reseed`.
 */
export function managedMetadata(opts: {
  unit: string;
  target: {
    name: string;
    labels?: Record<string, string> | undefined;
    annotations?: Record<string, string> | undefined;
  };
  namespace: string;
  current?: V1ObjectMeta | undefined;
  extraAnnotations?: Record<string, string>;
}): V1ObjectMeta {
  const { current, target } = opts;
  return {
    ...current,
    name: target.name,
    namespace: opts.namespace,
    labels: { ...current?.labels, ...target.labels, "app.kubernetes.io/managed-by": "reseed" },
    annotations: {
      ...current?.annotations,
      ...target.annotations,
      "reseed.dev/unit": opts.unit,
      ...opts.extraAnnotations,
    },
  };
}
