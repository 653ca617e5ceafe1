import { createHash } from "node:crypto";
import type { core } from "../core/zod.js";
import { inputUses } from "../core/access.js";
import { invalidSpec, type Problem } from "../core/errors.js";
import { placeholderReason } from "../core/placeholder.js";
import { didYouMean } from "../core/suggest.js";
import type { KindRegistry, UnitKind } from "../kinds/kind.js";
import {
  inputRef,
  isSecretSource,
  LITERAL_SECRET,
  SECRET_SOURCES,
  seedingUnit,
  type InputRef,
  type SeedingUnit,
} from "../core/spec.js";

/** A unit whose spec and kind settings have both been checked: what every phase runs on. */
export interface LoadedUnit {
  unit: SeedingUnit;
  kind: UnitKind<unknown>;
  settings: unknown;
  fingerprint: string;
}

/**
 * zod's issues as problems at the path the user wrote, in words that say what is wrong.
 * `input` is the value that was parsed: a union failure is explained by looking at which
 * branch the value evidently meant (see explainUnion).
 */
export function zodProblems(err: core.$ZodError, prefix: string, input?: unknown): Problem[] {
  const base = prefix ? prefix.split(".") : [];
  return err.issues.flatMap((i) =>
    explain(i as ZodIssueLike, input, []).map((p) => ({
      subject: [...base, ...p.path].join("."),
      message: p.message,
    })),
  );
}

interface ZodIssueLike {
  code: string;
  path: PropertyKey[];
  message: string;
  keys?: string[];
  errors?: ZodIssueLike[][];
  issues?: ZodIssueLike[];
}
interface PathProblem {
  path: string[];
  message: string;
}

function at(value: unknown, path: string[]): unknown {
  let v = value;
  for (const k of path) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

const quote = (keys: string[]) => keys.map((k) => `\`${k}\``).join(" and ");

function explain(issue: ZodIssueLike, input: unknown, base: string[]): PathProblem[] {
  const path = [...base, ...issue.path.map(String)];
  switch (issue.code) {
    case "invalid_union":
      return explainUnion(issue, input, path);
    case "invalid_key":
      return [{ path, message: (issue.issues ?? []).map((i) => i.message).join("; ") || issue.message }];
    case "unrecognized_keys":
      return (issue.keys ?? []).map((k) => ({
        path: [...path, k],
        message: "is not a known field here (a typo, or at the wrong level?)",
      }));
    case "invalid_type":
      if (at(input, path) === undefined && path.length) {
        const parent = path.length > 1 ? path[path.length - 2]! : undefined;
        const owner = parent && path[path.length - 3] === "auth" ? `Vault ${parent} auth` : parent;
        return [
          {
            path,
            message:
              owner && !/^\d+$/.test(owner)
                ? `is required: ${owner} needs \`${path[path.length - 1]}\``
                : "is required",
          },
        ];
      }
      return [{ path, message: issue.message }];
    default:
      return [{ path, message: issue.message }];
  }
}

// The unions in unit specs are unions of strict objects told apart by which key is present
// (an input's source, a dependency's probe, a Vault auth method), sometimes with a string
// (a literal or { input }). zod reports "Invalid input" for all of them; the branch the user
// meant is the one whose key they wrote.
function explainUnion(issue: ZodIssueLike, input: unknown, path: string[]): PathProblem[] {
  const value = at(input, path);
  const objectBranches = (issue.errors ?? [])
    .filter((errs) => !errs.some((e) => e.code === "invalid_type" && e.path.length === 0))
    .map((errs) => ({
      errs,
      unknown: new Set(
        errs.filter((e) => e.code === "unrecognized_keys" && e.path.length === 0).flatMap((e) => e.keys ?? []),
      ),
      missing: errs
        .filter(
          (e) =>
            e.code === "invalid_type" &&
            e.path.length === 1 &&
            isObject(value) &&
            value[String(e.path[0])] === undefined,
        )
        .map((e) => String(e.path[0])),
    }));
  if (!isObject(value) || !objectBranches.length)
    return [{ path, message: `is not one of the forms this field takes (${issue.message})` }];
  const present = Object.keys(value);
  // Keys some branches accept and others reject: the ones that pick a branch.
  const distinctive = present.filter(
    (k) => objectBranches.some((b) => !b.unknown.has(k)) && objectBranches.some((b) => b.unknown.has(k)),
  );
  const choices = [...new Set(objectBranches.flatMap((b) => b.missing).concat(distinctive))];
  const noun = unionNoun(path);
  if (distinctive.length > 1) return [{ path, message: `${noun.one}: found ${quote(distinctive)}` }];
  const matching = objectBranches.filter((b) => b.unknown.size === 0);
  const meant =
    matching.length === 1
      ? matching[0]
      : distinctive.length === 1
        ? objectBranches.find((b) => !b.unknown.has(distinctive[0]!))
        : undefined;
  if (meant) return meant.errs.flatMap((e) => explain(e, input, path));
  const unknown = present.filter((k) => objectBranches.every((b) => b.unknown.has(k)));
  return [
    {
      path,
      message: `${noun.needs} ${choices.map((c) => `\`${c}\``).join(", ")}${unknown.length ? ` (${quote(unknown)} is not one of them)` : ""}`,
    },
  ];
}

function unionNoun(path: string[]): { one: string; needs: string } {
  const [parent, last] = [path[path.length - 2], path[path.length - 1]];
  if (parent === "inputs") return { one: "an input has exactly one source", needs: "an input needs a source: one of" };
  if (parent === "dependencies")
    return { one: "a dependency has exactly one probe", needs: "a dependency needs a probe: one of" };
  if (last === "auth") return { one: "Vault auth has exactly one method", needs: "Vault auth needs a method: one of" };
  if (last === "token")
    return {
      one: "a Vault token comes from exactly one place",
      needs: "a Vault token needs a place to come from: one of",
    };
  return { one: "takes exactly one of these", needs: "needs one of" };
}

/** Checks a unit document fully (schema, kind, kind settings, input references) and reports every problem. */
export function loadUnit(doc: unknown, registry: KindRegistry): LoadedUnit {
  const parsed = seedingUnit.safeParse(doc);
  if (!parsed.success)
    throw invalidSpec([
      ...zodProblems(parsed.error, "", doc),
      ...partialSpecProblems((doc as { spec?: unknown } | null)?.spec, registry),
    ]);
  const unit = parsed.data;
  const problems: Problem[] = literalProblems(unit.spec.inputs, unit.spec.managed);

  const kind = registry.get(unit.spec.ensure.kind);
  if (!kind) {
    throw invalidSpec([...problems, unknownKind(unit.spec.ensure.kind, registry)]);
  }
  if (!kind.patterns.includes(unit.spec.pattern)) {
    problems.push({
      subject: "spec.pattern",
      message: `kind ${kind.kind} runs under ${kind.patterns.join(" or ")}, not ${unit.spec.pattern}`,
    });
  }
  const settings = kind.spec.safeParse(unit.spec.ensure.with);
  if (!settings.success)
    throw invalidSpec([...problems, ...zodProblems(settings.error, "spec.ensure.with", unit.spec.ensure.with)]);

  for (const [name, ref] of Object.entries(unit.spec.inputs)) {
    if ("value" in ref && ref.secret === true)
      problems.push({ subject: `spec.inputs.${name}.secret`, message: LITERAL_SECRET });
  }
  for (const use of inputUses(kind.inputs, settings.data)) {
    const ref = unit.spec.inputs[use.name];
    if (!ref) {
      problems.push({
        subject: "spec.ensure.with",
        message: `refers to input "${use.name}", which the unit's inputs do not declare${didYouMean(use.name, Object.keys(unit.spec.inputs))}`,
      });
      continue;
    }
    const secret = isSecretSource(ref);
    if (use.mustBe === "non-secret" && secret) {
      problems.push({
        subject: `spec.inputs.${use.name}`,
        message: `is secret material, and kind ${kind.kind} would publish it in clear`,
      });
    }
    if (use.mustBe === "secret" && "value" in ref) {
      problems.push({
        subject: `spec.inputs.${use.name}`,
        message: `kind ${kind.kind} takes a secret here, and ${LITERAL_SECRET}`,
      });
    } else if (use.mustBe === "secret" && !secret) {
      problems.push({
        subject: `spec.inputs.${use.name}`,
        message: `kind ${kind.kind} takes a secret here: take it from ${SECRET_SOURCES} (an env or file input needs secret: true)`,
      });
    }
  }
  if (problems.length) throw invalidSpec(problems);
  return { unit, kind, settings: settings.data, fingerprint: fingerprint(unit) };
}

/**
 * Literal input values are in the file, so what validate-inputs would reject in them (C1) is
 * reported here already: an empty value, and in a managed unit a placeholder. Reasons never
 * quote the value.
 */
function literalProblems(inputs: Record<string, InputRef>, managed: boolean): Problem[] {
  return Object.entries(inputs).flatMap(([name, ref]): Problem[] => {
    if (!("value" in ref)) return [];
    const subject = `spec.inputs.${name}.value`;
    if (ref.value.trim() === "") return [{ subject, message: "is empty" }];
    const reason = managed ? placeholderReason(ref.value) : undefined;
    return reason
      ? [
          {
            subject,
            message: `${reason}: a managed unit takes no placeholders (C1); write the real value (or managed: false outside managed environments)`,
          },
        ]
      : [];
  });
}

/**
 * What can still be checked of a spec whose envelope failed its schema: the kind and its
 * settings, and the literal inputs that parse, so one lint run reports every problem.
 * Paths as loadUnit reports them (spec.…).
 */
export function partialSpecProblems(spec: unknown, registry: KindRegistry): Problem[] {
  if (!isObject(spec)) return [];
  const problems: Problem[] = [];
  const ensure = spec.ensure;
  if (isObject(ensure) && typeof ensure.kind === "string" && (ensure.with === undefined || isObject(ensure.with))) {
    const kind = registry.get(ensure.kind);
    if (!kind) problems.push(unknownKind(ensure.kind, registry));
    else {
      const settings = kind.spec.safeParse(ensure.with ?? {});
      if (!settings.success) problems.push(...zodProblems(settings.error, "spec.ensure.with", ensure.with ?? {}));
    }
  }
  if (isObject(spec.inputs)) {
    const parsed = Object.entries(spec.inputs).flatMap(([name, raw]) => {
      const ref = inputRef.safeParse(raw);
      return ref.success ? [[name, ref.data] as const] : [];
    });
    problems.push(...literalProblems(Object.fromEntries(parsed), spec.managed !== false));
  }
  return problems;
}

function unknownKind(kind: string, registry: KindRegistry): Problem {
  return {
    subject: "spec.ensure.kind",
    message: `unknown kind "${kind}"; known kinds: ${registry.names().join(", ")}`,
  };
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
