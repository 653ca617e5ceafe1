import { readFile } from "node:fs/promises";
import * as z from "../core/zod.js";
import { SeedError, invalidSpec, type Problem } from "../core/errors.js";
import { unitName, type SeedingUnit } from "../core/spec.js";
import type { KindRegistry } from "../kinds/kind.js";
import { parseDocuments } from "../runtime/documents.js";
import { loadUnit, partialSpecProblems, zodProblems, type LoadedUnit } from "../runtime/unit.js";
import { chartValues, unitValues } from "../core/values.js";
import { unitFromValues } from "../core/values-units.js";

// A values file as helm sees it before merging it over the chart's values.yaml: every key
// optional (an overlay may set only `defaults.schedule`), nothing unknown. Units are
// checked one by one below, so each problem keeps its own path.
const monitoring = chartValues.shape.monitoring.def.innerType.shape;
const valuesFile = z.strictObject({
  image: z.optional(z.partial(chartValues.shape.image)),
  defaults: z.optional(z.partial(chartValues.shape.defaults)),
  imagePullSecrets: chartValues.shape.imagePullSecrets,
  logFormat: z.optional(chartValues.shape.logFormat),
  runMode: z.optional(chartValues.shape.runMode),
  monitoring: z.optional(
    z.strictObject({
      metricPrefix: z.optional(monitoring.metricPrefix),
      prometheusRule: z.optional(z.partial(monitoring.prometheusRule)),
      grafanaDashboard: z.optional(z.partial(monitoring.grafanaDashboard)),
    }),
  ),
  units: z.optional(z.record(z.string(), z.unknown())),
});

export interface FileUnits {
  file: string;
  /** The units `reseed run` would run: every unit document, and the enabled units of values files. */
  units: LoadedUnit[];
  problems: Problem[];
  /** Where each unit of `units` is written, for duplicate names across documents and files. */
  origins: UnitOrigin[];
}

interface UnitOrigin {
  name: string;
  /** The field path that names it: metadata.name (of document N), or units.<name>. */
  subject: string;
  fromValues: boolean;
}

/** A chart values file rather than a SeedingUnit document: it has none of a unit's fields. */
function isValuesDocument(doc: unknown): doc is Record<string, unknown> {
  return (
    !!doc &&
    typeof doc === "object" &&
    !Array.isArray(doc) &&
    !["apiVersion", "kind", "metadata", "spec"].some((k) => k in doc)
  );
}

/** A problem loadUnit reported for the SeedingUnit made from values.units.<name>, at the path in the values file. */
function valuesSubject(name: string, subject: string): string {
  if (subject === "metadata.name") return `units.${name}`;
  return `units.${name}.${subject.startsWith("spec.") ? subject.slice("spec.".length) : subject}`;
}

/**
 * Reads unit documents or chart values files and checks everything in them, collecting all
 * problems with the field paths of the file as written instead of stopping at the first.
 * Values files are checked whole (image, defaults, and disabled units too, as helm's schema
 * does); they contribute their enabled units, as the chart would render them.
 */
export async function loadFile(file: string, registry: KindRegistry, namespace: string): Promise<FileUnits> {
  const result: FileUnits = { file, units: [], problems: [], origins: [] };
  const { problems } = result;
  let docs: unknown[];
  try {
    docs = parseDocuments(await readFile(file, "utf8"), file);
  } catch (err) {
    if (err instanceof SeedError) return { ...result, problems: err.problems };
    return { ...result, problems: [{ subject: file, message: (err as Error).message }] };
  }

  const check = (doc: unknown, subjectOf: (s: string) => string, origin: UnitOrigin | undefined) => {
    try {
      const loaded = loadUnit(doc, registry);
      if (origin) {
        result.units.push(loaded);
        result.origins.push(origin);
      }
    } catch (err) {
      if (!(err instanceof SeedError)) throw err;
      problems.push(...err.problems.map((p) => ({ subject: subjectOf(p.subject), message: p.message })));
    }
  };

  docs.forEach((doc, i) => {
    const prefix = docs.length > 1 ? `document ${i + 1}` : "";
    const join = (s: string) => [prefix, s].filter(Boolean).join(".");
    if (isValuesDocument(doc)) {
      const top = valuesFile.safeParse(doc);
      if (!top.success) problems.push(...zodProblems(top.error, prefix, doc));
      const units = doc.units;
      if (!units || typeof units !== "object" || Array.isArray(units)) return;
      for (const [name, raw] of Object.entries(units)) {
        const subjectOf = (s: string) => join(valuesSubject(name, s));
        // The name is checked on its own, so that the unit behind a bad name is still checked.
        const validName = unitName.safeParse(name);
        if (!validName.success)
          problems.push(
            ...zodProblems(validName.error, join(`units.${name}`)).map((p) => ({
              ...p,
              message: `is not a unit name: ${p.message}`,
            })),
          );
        const parsed = unitValues.safeParse(raw);
        if (!parsed.success) {
          problems.push(...zodProblems(parsed.error, join(`units.${name}`), raw));
          problems.push(...partialSpecProblems(raw, registry).map((p) => ({ ...p, subject: subjectOf(p.subject) })));
          continue;
        }
        // The chart names a hook's Workflow <name>-<runId>, and Argo caps Workflow names at 63.
        if (parsed.data.pattern === "hook" && parsed.data.runId && `${name}-${parsed.data.runId}`.length > 63) {
          problems.push({
            subject: join(`units.${name}.runId`),
            message: `makes the hook Workflow name ${name}-${parsed.data.runId} longer than Argo's 63 characters; shorten the unit name or runId`,
          });
        }
        const origin =
          parsed.data.enabled && validName.success
            ? { name, subject: join(`units.${name}`), fromValues: true }
            : undefined;
        check(
          unitFromValues(validName.success ? name : "unnamed", parsed.data, namespace) satisfies SeedingUnit,
          subjectOf,
          origin,
        );
      }
    } else {
      const name = (doc as { metadata?: { name?: unknown } }).metadata?.name;
      check(doc, join, { name: String(name), subject: join("metadata.name"), fromValues: false });
    }
  });
  return result;
}

/**
 * Loads every file and adds a problem for each unit name used twice. Two units with one name
 * would share one CronWorkflow, ServiceAccount and Role, and `reseed run` would run both.
 * For lint, units of different values files are not compared: those are alternative
 * overlays (values-dev.yaml, values-prod.yaml), each rendered as its own release.
 */
export async function loadFiles(
  files: string[],
  registry: KindRegistry,
  namespace: string,
  mode: "lint" | "run",
): Promise<FileUnits[]> {
  const results = await Promise.all(files.map((f) => loadFile(f, registry, namespace)));
  const seen = new Map<string, { file: string; origin: UnitOrigin }>();
  for (const r of results) {
    for (const origin of r.origins) {
      const first = seen.get(origin.name);
      if (!first) {
        seen.set(origin.name, { file: r.file, origin });
        continue;
      }
      if (mode === "lint" && origin.fromValues && first.origin.fromValues && first.file !== r.file) continue;
      const where = first.file === r.file ? first.origin.subject : `${first.file}: ${first.origin.subject}`;
      r.problems.push({
        subject: origin.subject,
        message: `unit "${origin.name}" is already defined at ${where}; unit names must be unique (each is one CronWorkflow, ServiceAccount and Role)`,
      });
    }
  }
  return results;
}

export async function loadFilesOrThrow(
  files: string[],
  registry: KindRegistry,
  namespace: string,
): Promise<LoadedUnit[]> {
  const results = await loadFiles(files, registry, namespace, "run");
  const problems = results.flatMap((r) =>
    r.problems.map((p) => ({ subject: `${r.file}: ${p.subject}`, message: p.message })),
  );
  if (problems.length) throw invalidSpec(problems);
  return results.flatMap((r) => r.units);
}
