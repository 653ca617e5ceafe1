import * as z from "./zod.js";
import { cronSchedule, timeZone } from "./cron.js";
import { requireRunIdForHooks, unitName, unitSpecFields } from "./spec.js";

// The chart's values: each entry of `units` is a unit spec plus how the chart schedules and
// wires it. values.schema.json is generated from this, so a bad unit fails at `helm template`
// (and so at Argo CD sync), before anything runs.
export const unitValues = z
  .extend(unitSpecFields, {
    enabled: z.boolean().check(z.describe("Environment overlays turn whole units on or off (C5).")),
    schedule: z
      .optional(cronSchedule)
      .check(z.describe("Cron schedule for reconciler, extraction and operator units.")),
    suspend: z.optional(z.boolean()),
    serviceAccount: z.optional(
      z.strictObject({
        annotations: z.optional(z.record(z.string(), z.string())),
        labels: z.optional(z.record(z.string(), z.string())),
      }),
    ),
    podLabels: z
      .optional(z.record(z.string(), z.string()))
      .check(z.describe('Extra pod labels, e.g. azure.workload.identity/use: "true".')),
  })
  .check(z.superRefine(requireRunIdForHooks));

// The step images the chart runs, one per step of the WorkflowTemplate.
export const stepImages = ["validate-inputs", "wait-deps", "ensure-state", "verify"] as const;
const digest = z.string().check(z.regex(/^sha256:[0-9a-f]{64}$/, "a digest is sha256: and 64 lowercase hex digits"));

export const chartValues = z.strictObject({
  image: z.strictObject({
    registry: z.string().check(z.minLength(1), z.describe("Step images are <registry>/reseed-<step>.")),
    tag: z
      .optional(z.string().check(z.minLength(1)))
      .check(z.describe("Defaults to the chart's appVersion: the reseed release the chart was published with.")),
    digests: z
      .optional(z.partialRecord(z.enum(stepImages), digest))
      .check(
        z.describe(
          "Pins a step image to <registry>/reseed-<step>@<digest> instead of its tag (make push prints them).",
        ),
      ),
    pullPolicy: z
      .enum(["Always", "IfNotPresent", "Never"])
      .check(z.describe("imagePullPolicy of the step containers.")),
  }),
  logFormat: z
    .optional(z.enum(["json", "text"]))
    .check(z.describe("Step log lines: json (default: for log pipelines) or text (for humans reading `argo logs`).")),
  runMode: z
    .optional(z.enum(["dag", "containerSet"]))
    .check(
      z.describe(
        "How a run's steps run: dag (default: a pod per step) or containerSet (one pod, the steps as its containers in order; docs/operating.md).",
      ),
    ),
  imagePullSecrets: z
    .optional(z.array(z.strictObject({ name: z.string().check(z.minLength(1)) })))
    .check(z.describe("Secrets (in the release namespace) for pulling the step images from a private registry.")),
  defaults: z.strictObject({
    schedule: cronSchedule.check(
      z.describe("Cron schedule of every scheduled unit (C3: short, so lost state comes back on its own)."),
    ),
    timezone: timeZone.check(z.describe("IANA time zone the schedules are read in.")),
    activeDeadlineSeconds: z
      .number()
      .check(z.int(), z.minimum(60), z.describe("A hung run must end, or it blocks concurrencyPolicy Forbid forever.")),
    startingDeadlineSeconds: z
      .number()
      .check(
        z.int(),
        z.minimum(0),
        z.describe("After controller downtime, run a missed schedule only within this window."),
      ),
    successfulJobsHistoryLimit: z
      .number()
      .check(
        z.int(),
        z.minimum(0),
        z.describe("Successful runs kept per unit, manual reruns included (docs/operating.md)."),
      ),
    failedJobsHistoryLimit: z
      .number()
      .check(z.int(), z.minimum(1), z.describe("Failed runs kept as evidence (C4), per unit, manual reruns included.")),
    ttlSecondsAfterSuccess: z.number().check(z.int(), z.minimum(0)),
    ttlSecondsAfterFailure: z
      .number()
      .check(z.int(), z.minimum(3600), z.describe("Failed runs are evidence (C4): keep them at least an hour.")),
    podGCDeleteDelaySeconds: z
      .number()
      .check(
        z.int(),
        z.minimum(0),
        z.describe(
          "How long a successful run's pods (and so its step logs) stay after it ends; a failed run's pods stay as long as the run.",
        ),
      ),
    archiveLogs: z
      .boolean()
      .check(
        z.describe(
          "Every step's log saved to the cluster's artifact repository, so it outlives pod GC and the Workflow's TTL (C4; docs/evidence-archive.md).",
        ),
      ),
  }),
  monitoring: z
    .optional(
      z.strictObject({
        metricPrefix: z
          .string()
          .check(
            z.regex(/^[a-zA-Z_][a-zA-Z0-9_]*$|^$/),
            z.describe("Argo 3.6+ exports template metrics as argo_workflows_<name>; empty for older controllers."),
          ),
        prometheusRule: z.strictObject({
          enabled: z.boolean(),
          labels: z.optional(z.record(z.string(), z.string())),
          unverifiedForSeconds: z
            .number()
            .check(
              z.int(),
              z.minimum(60),
              z.describe("ReseedUnitNotVerified fires when a unit has not succeeded for this long."),
            ),
          failureWindow: z
            .string()
            .check(
              z.regex(/^\d+[smhd]$/, "a Prometheus duration such as 1h"),
              z.describe("ReseedUnitFailing looks at the runs of this window."),
            ),
          failureRatio: z.number().check(z.minimum(0), z.maximum(1)),
          severity: z.optional(z.string().check(z.minLength(1))),
        }),
        grafanaDashboard: z.strictObject({
          enabled: z.boolean(),
          labels: z.optional(z.record(z.string(), z.string())),
        }),
      }),
    )
    .check(
      z.describe("Optional alerts (PrometheusRule) and a Grafana dashboard on the runs' metrics (docs/operating.md)."),
    ),
  units: z
    .record(unitName, unitValues)
    .check(
      z.describe(
        "Seeding units by name: a SeedingUnit spec plus enabled, schedule, suspend, serviceAccount, podLabels.",
      ),
    ),
});
export type ChartValues = z.infer<typeof chartValues>;
export type UnitValues = z.infer<typeof unitValues>;
