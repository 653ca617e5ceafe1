import { createHash } from "node:crypto";
import { parseAllDocuments } from "yaml";
import type { ZodError } from "zod";
import { invalidSpec, type Problem } from "./errors.js";
import type { UnitKind } from "./kind.js";
import { isSecretSource, LITERAL_SECRET, SECRET_SOURCES, seedingUnit, type SeedingUnit } from "./spec.js";

export interface KindRegistry {
  get(kind: string): UnitKind<unknown> | undefined;
  names(): string[];
}

/** A unit whose spec and kind settings have both been checked: what every phase runs on. */
export interface LoadedUnit {
  unit: SeedingUnit;
  kind: UnitKind<unknown>;
  settings: unknown;
  fingerprint: string;
}

export function zodProblems(err: ZodError, prefix: string): Problem[] {
  return err.issues.map((i) => ({
    subject: [prefix, ...i.path.map(String)].filter(Boolean).join("."),
    message: i.message,
  }));
}

/** Checks a unit document fully (schema, kind, kind settings, input references) and reports every problem. */
export function loadUnit(doc: unknown, registry: KindRegistry): LoadedUnit {
  const parsed = seedingUnit.safeParse(doc);
  if (!parsed.success) throw invalidSpec(zodProblems(parsed.error, ""));
  const unit = parsed.data;
  const problems: Problem[] = [];

  const kind = registry.get(unit.spec.ensure.kind);
  if (!kind) {
    throw invalidSpec([{ subject: "spec.ensure.kind", message: `unknown kind "${unit.spec.ensure.kind}"; known kinds: ${registry.names().join(", ")}` }]);
  }
  if (!kind.patterns.includes(unit.spec.pattern)) {
    problems.push({ subject: "spec.pattern", message: `kind ${kind.kind} runs under ${kind.patterns.join(" or ")}, not ${unit.spec.pattern}` });
  }
  const settings = kind.spec.safeParse(unit.spec.ensure.with);
  if (!settings.success) throw invalidSpec([...problems, ...zodProblems(settings.error, "spec.ensure.with")]);

  for (const [name, ref] of Object.entries(unit.spec.inputs)) {
    if ("value" in ref && ref.secret === true) problems.push({ subject: `spec.inputs.${name}.secret`, message: LITERAL_SECRET });
  }
  for (const use of kind.inputs(settings.data)) {
    const ref = unit.spec.inputs[use.name];
    if (!ref) {
      problems.push({ subject: "spec.ensure.with", message: `refers to input "${use.name}", which spec.inputs does not declare` });
      continue;
    }
    const secret = isSecretSource(ref);
    if (use.mustBe === "non-secret" && secret) {
      problems.push({ subject: `spec.inputs.${use.name}`, message: `is secret material, and kind ${kind.kind} would publish it in clear` });
    }
    if (use.mustBe === "secret" && "value" in ref) {
      problems.push({ subject: `spec.inputs.${use.name}`, message: `kind ${kind.kind} takes a secret here, and ${LITERAL_SECRET}` });
    } else if (use.mustBe === "secret" && !secret) {
      problems.push({ subject: `spec.inputs.${use.name}`, message: `kind ${kind.kind} takes a secret here: take it from ${SECRET_SOURCES} (an env or file input needs secret: true)` });
    }
  }
  if (problems.length) throw invalidSpec(problems);
  return { unit, kind, settings: settings.data, fingerprint: fingerprint(unit) };
}

/** Parses YAML or JSON text holding one or more unit documents. */
export function parseDocuments(text: string, source: string): unknown[] {
  const docs = parseAllDocuments(text);
  const out: unknown[] = [];
  for (const d of Array.isArray(docs) ? docs : [docs]) {
    if (d.errors.length) throw invalidSpec(d.errors.map((e) => ({ subject: source, message: e.message.split("\n", 1)[0]! })));
    const value: unknown = d.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}

/** Identifies the exact spec a run validated, so later steps can prove they run the same one. */
export function fingerprint(unit: SeedingUnit): string {
  return createHash("sha256").update(canonicalJson(unit)).digest("hex").slice(0, 16);
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(v);
}
