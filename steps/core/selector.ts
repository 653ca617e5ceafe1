import * as z from "./zod.js";

// A Kubernetes label selector (metav1.LabelSelector) and its string form, the one list
// requests carry: the API server does the matching, so a fan-out reads only its targets.

const labelKey = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(317),
    z.regex(
      /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?$/,
      "must be a label key ([prefix/]name)",
    ),
  );
const labelValue = z
  .string()
  .check(
    z.maxLength(63),
    z.regex(
      /^([a-zA-Z0-9]([-a-zA-Z0-9_.]*[a-zA-Z0-9])?)?$/,
      "must be a label value (at most 63 letters, digits, -, _ and .)",
    ),
  );

const requirement = z
  .strictObject({
    key: labelKey,
    operator: z.enum(["In", "NotIn", "Exists", "DoesNotExist"]),
    values: z.optional(z.array(labelValue)),
  })
  .check(
    z.superRefine((r, ctx) => {
      const needsValues = r.operator === "In" || r.operator === "NotIn";
      if (needsValues && !r.values?.length)
        ctx.addIssue({ code: "custom", path: ["values"], message: `${r.operator} needs at least one value` });
      if (!needsValues && r.values?.length)
        ctx.addIssue({ code: "custom", path: ["values"], message: `${r.operator} takes no values` });
    }),
  );

/**
 * Non-empty on purpose: an empty selector matches every namespace (kube-system included),
 * which no fan-out should do by omission.
 */
export const labelSelector = z
  .strictObject({
    matchLabels: z.optional(z.record(labelKey, labelValue)),
    matchExpressions: z.optional(z.array(requirement)),
  })
  .check(
    z.refine((s) => Object.keys(s.matchLabels ?? {}).length + (s.matchExpressions?.length ?? 0) > 0, {
      message: "give matchLabels or matchExpressions: an empty selector would match everything",
    }),
  );
export type LabelSelector = z.infer<typeof labelSelector>;

/** The labelSelector query parameter, in a stable order (keys sorted). */
export function selectorString(s: LabelSelector): string {
  const parts = Object.entries(s.matchLabels ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  for (const r of s.matchExpressions ?? []) {
    if (r.operator === "Exists") parts.push(r.key);
    else if (r.operator === "DoesNotExist") parts.push(`!${r.key}`);
    else parts.push(`${r.key} ${r.operator === "In" ? "in" : "notin"} (${[...(r.values ?? [])].sort().join(",")})`);
  }
  return parts.join(",");
}
