import * as z from "../../core/zod.js";
import { defineKind } from "../kind.js";
import { objectReference } from "../../core/spec.js";
import { describeObject, readCondition } from "../../probes/kubernetes.js";

const resource = z.strictObject({
  ...objectReference,
  condition: z._default(z.string().check(z.minLength(1)), "Ready"),
});
const settings = z.strictObject({ resources: z.array(resource).check(z.minLength(1)) });
type Settings = z.infer<typeof settings>;

/** P3: the operator is the authority; reseed only proves its custom resources report ready. */
export const operatorReady = defineKind<Settings>({
  kind: "operator-ready",
  authority: "cluster-managed",
  description: "Verify-only (P3): named custom resources report a Ready (or named) condition.",
  patterns: ["operator"],
  spec: settings,
  inputs: [],
  dependencies: () => [],
  access: [{ path: ["resources", "*"], object: "reference", verbs: "read" }],
  ensure: async () => undefined,
  verify: (ctx, s) =>
    Promise.all(
      s.resources.map(async (r) => {
        const ref = { ...r, namespace: r.namespace ?? ctx.namespace };
        const { ok, detail } = await readCondition(ctx.kube(), ref, r.condition);
        return { name: `${describeObject(ref)} ${r.condition}`, ok, detail };
      }),
    ),
});
