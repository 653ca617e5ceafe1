import { z } from "zod";
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

export const chartValues = z.strictObject({
  image: z.strictObject({
    registry: z.string().min(1),
    tag: z.string().min(1),
    pullPolicy: z.enum(["Always", "IfNotPresent", "Never"]),
  }),
  defaults: z.strictObject({
    schedule: cronSchedule,
    timezone: timeZone,
    activeDeadlineSeconds: z.number().int().min(60),
    startingDeadlineSeconds: z.number().int().min(0),
    successfulJobsHistoryLimit: z.number().int().min(0),
    failedJobsHistoryLimit: z.number().int().min(1),
    ttlSecondsAfterSuccess: z.number().int().min(0),
    ttlSecondsAfterFailure: z.number().int().min(3600).describe("Failed runs are evidence (C4): keep them at least an hour."),
  }),
  units: z.record(unitName, unitValues),
});
export type ChartValues = z.infer<typeof chartValues>;
export type UnitValues = z.infer<typeof unitValues>;
