/** Labels and annotations that mark an object as seeded by a unit, for `kubectl get -l`. */
export function managedMetadata(
  unit: string,
  target: { labels?: Record<string, string> | undefined; annotations?: Record<string, string> | undefined },
  extraAnnotations: Record<string, string> = {},
): { labels: Record<string, string>; annotations: Record<string, string> } {
  return {
    labels: { ...target.labels, "app.kubernetes.io/managed-by": "reseed" },
    annotations: { ...target.annotations, "reseed.dev/unit": unit, ...extraAnnotations },
  };
}
