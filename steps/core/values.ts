import * as z from "zod";
import { cronSchedule, timeZone } from "./cron.js";
import { requireRunIdForHooks, unitName, unitSpecFields } from "./spec.js";

// The chart's values: each entry of `units` is a unit spec plus how the chart schedules and
// wires it. values.schema.json is generated from this, so a bad unit fails at `helm template`
// (and so at Argo CD sync), before anything runs.
export const unitValues = unitSpecFields
  .extend({
    enabled: z.boolean().describe("Environment overlays turn whole units on or off (C5)."),
    schedule: cronSchedule.optional().describe("Cron schedule for reconciler, extraction and operator units."),
    suspend: z.boolean().optional(),
    serviceAccount: z
      .strictObject({
        annotations: z.record(z.string(), z.string()).optional(),
        labels: z.record(z.string(), z.string()).optional(),
      })
      .optional(),
    podLabels: z
      .record(z.string(), z.string())
      .optional()
      .describe('Extra pod labels, e.g. azure.workload.identity/use: "true".'),
  })
  .superRefine(requireRunIdForHooks);

// The step images the chart runs, one per step of the WorkflowTemplate.
export const stepImages = ["validate-inputs", "wait-deps", "ensure-state", "verify"] as const;
const digest = z.string().regex(/^sha256:[0-9a-f]{64}$/, "a digest is sha256: and 64 lowercase hex digits");

export const chartValues = z.strictObject({
  image: z.strictObject({
    registry: z.string().min(1).describe("Step images are <registry>/reseed-<step>."),
    tag: z
      .string()
      .min(1)
      .optional()
      .describe("Defaults to the chart's appVersion: the reseed release the chart was published with."),
    digests: z
      .partialRecord(z.enum(stepImages), digest)
      .optional()
      .describe("Pins a step image to <registry>/reseed-<step>@<digest> instead of its tag (make push prints them)."),
    pullPolicy: z.enum(["Always", "IfNotPresent", "Never"]).describe("imagePullPolicy of the step containers."),
  }),
  logFormat: z
    .enum(["json", "text"])
    .optional()
    .describe("Step log lines: json (default: for log pipelines) or text (for humans reading `argo logs`)."),
  runMode: z
    .enum(["dag", "containerSet"])
    .optional()
    .describe(
      "How a run's steps run: dag (default: a pod per step) or containerSet (one pod, the steps as its containers in order; docs/operating.md).",
    ),
  imagePullSecrets: z
    .array(z.strictObject({ name: z.string().min(1) }))
    .optional()
    .describe("Secrets (in the release namespace) for pulling the step images from a private registry."),
  defaults: z.strictObject({
    schedule: cronSchedule.describe(
      "Cron schedule of every scheduled unit (C3: short, so lost state comes back on its own).",
    ),
    timezone: timeZone.describe("IANA time zone the schedules are read in."),
    activeDeadlineSeconds: z
      .number()
      .int()
      .min(60)
      .describe("A hung run must end, or it blocks concurrencyPolicy Forbid forever."),
    startingDeadlineSeconds: z
      .number()
      .int()
      .min(0)
      .describe("After controller downtime, run a missed schedule only within this window."),
    successfulJobsHistoryLimit: z
      .number()
      .int()
      .min(0)
      .describe("Successful runs kept per unit, manual reruns included (docs/operating.md)."),
    failedJobsHistoryLimit: z
      .number()
      .int()
      .min(1)
      .describe("Failed runs kept as evidence (C4), per unit, manual reruns included."),
    ttlSecondsAfterSuccess: z.number().int().min(0),
    ttlSecondsAfterFailure: z
      .number()
      .int()
      .min(3600)
      .describe("Failed runs are evidence (C4): keep them at least an hour."),
    podGCDeleteDelaySeconds: z
      .number()
      .int()
      .min(0)
      .describe(
        "How long a successful run's pods (and so its step logs) stay after it ends; a failed run's pods stay as long as the run.",
      ),
    archiveLogs: z
      .boolean()
      .describe(
        "Every step's log saved to the cluster's artifact repository, so it outlives pod GC and the Workflow's TTL (C4; docs/evidence-archive.md).",
      ),
  }),
  monitoring: z
    .strictObject({
      metricPrefix: z
        .string()
        .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$|^$/)
        .describe("Argo 3.6+ exports template metrics as argo_workflows_<name>; empty for older controllers."),
      prometheusRule: z.strictObject({
        enabled: z.boolean(),
        labels: z.record(z.string(), z.string()).optional(),
        unverifiedForSeconds: z
          .number()
          .int()
          .min(60)
          .describe("ReseedUnitNotVerified fires when a unit has not succeeded for this long."),
        failureWindow: z
          .string()
          .regex(/^\d+[smhd]$/, "a Prometheus duration such as 1h")
          .describe("ReseedUnitFailing looks at the runs of this window."),
        failureRatio: z.number().min(0).max(1),
        severity: z.string().min(1).optional(),
      }),
      grafanaDashboard: z.strictObject({
        enabled: z.boolean(),
        labels: z.record(z.string(), z.string()).optional(),
      }),
    })
    .optional()
    .describe("Optional alerts (PrometheusRule) and a Grafana dashboard on the runs' metrics (docs/operating.md)."),
  units: z
    .record(unitName, unitValues)
    .describe("Seeding units by name: a SeedingUnit spec plus enabled, schedule, suspend, serviceAccount, podLabels."),
});
export type ChartValues = z.infer<typeof chartValues>;
export type UnitValues = z.infer<typeof unitValues>;
