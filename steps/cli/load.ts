import { readFile } from "node:fs/promises";
import { SeedError, invalidSpec, type Problem } from "../core/errors.js";
import type { SeedingUnit } from "../core/spec.js";
import { loadUnit, parseDocuments, zodProblems, type KindRegistry, type LoadedUnit } from "../core/unit.js";
import { chartValues, unitValues } from "../core/values.js";
import { unitFromValues } from "../core/values-units.js";

// A values file is usually an overlay that Helm merges over the chart's values.yaml, so the
// chart-wide settings are checked field by field (a bad digest, an unknown key) without
// requiring what values.yaml already sets.
const { units: _units, ...chartSettings } = chartValues.shape;
const overlaySettings = {
  image: chartSettings.image.partial(),
  defaults: chartSettings.defaults.partial(),
  imagePullSecrets: chartSettings.imagePullSecrets,
} satisfies Record<keyof typeof chartSettings, unknown>;

export interface FileUnits {
  file: string;
  units: LoadedUnit[];
  problems: Problem[];
}

/**
 * Reads unit documents or chart values files and checks every unit in them, collecting all
 * problems with field paths instead of stopping at the first. Values files contribute their
 * enabled units, as the chart would render them.
 */
export async function loadFile(file: string, registry: KindRegistry, namespace: string): Promise<FileUnits> {
  const problems: Problem[] = [];
  const units: LoadedUnit[] = [];
  let docs: unknown[];
  try {
    docs = parseDocuments(await readFile(file, "utf8"), file);
  } catch (err) {
    if (err instanceof SeedError) return { file, units, problems: err.problems };
    return { file, units, problems: [{ subject: file, message: (err as Error).message }] };
  }

  const check = (doc: unknown, prefix: string) => {
    try {
      units.push(loadUnit(doc, registry));
    } catch (err) {
      if (!(err instanceof SeedError)) throw err;
      problems.push(...err.problems.map((p) => ({ subject: [prefix, p.subject].filter(Boolean).join("."), message: p.message })));
    }
  };

  docs.forEach((doc, i) => {
    const d = doc as Record<string, unknown>;
    // A chart values file (often an overlay with only some keys, e.g. image digests) rather
    // than a SeedingUnit document.
    const isValues = d && typeof d === "object" && !("kind" in d) && Object.keys(d).some((k) => Object.hasOwn(chartValues.shape, k));
    if (isValues) {
      for (const [key, value] of Object.entries(d)) {
        if (key === "units") continue;
        if (!Object.hasOwn(overlaySettings, key)) {
          problems.push({ subject: key, message: "is not a reseed chart value" });
          continue;
        }
        const parsed = overlaySettings[key as keyof typeof overlaySettings].safeParse(value);
        if (!parsed.success) problems.push(...zodProblems(parsed.error, key));
      }
      for (const [name, raw] of Object.entries((d.units ?? {}) as Record<string, unknown>)) {
        const parsed = unitValues.safeParse(raw);
        if (!parsed.success) {
          problems.push(...zodProblems(parsed.error, `units.${name}`));
          continue;
        }
        if (parsed.data.enabled) check(unitFromValues(name, parsed.data, namespace) satisfies SeedingUnit, `units.${name}`);
      }
    } else {
      check(doc, docs.length > 1 ? `document ${i + 1}` : "");
    }
  });
  return { file, units, problems };
}

export async function loadFilesOrThrow(files: string[], registry: KindRegistry, namespace: string): Promise<LoadedUnit[]> {
  const results = await Promise.all(files.map((f) => loadFile(f, registry, namespace)));
  const problems = results.flatMap((r) => r.problems.map((p) => ({ subject: `${r.file}: ${p.subject}`, message: p.message })));
  if (problems.length) throw invalidSpec(problems);
  return results.flatMap((r) => r.units);
}
