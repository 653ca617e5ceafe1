import { ExitCode, SeedError, asSeedError, missingInputs, type Problem } from "../core/errors.js";
import { actionOf, describeChange, type Action, type ChangeLog } from "../core/changes.js";
import type { KindContext } from "../kinds/kind.js";
import { targetCounts } from "../core/outcome.js";
import type { ResolvedInputs } from "../inputs/source.js";
import type { Kube } from "../core/kube.js";

import type { Logger } from "../core/log.js";
import type { Redactor } from "../core/redact.js";
import type { InputValue } from "../core/spec.js";
import type { LoadedUnit } from "./unit.js";
import { implicitInputsOfRefs, resolveInputs } from "../inputs/index.js";
import { uniqueImplicit } from "../inputs/implicit.js";
import { waitForDependencies } from "../probes/index.js";

export const phaseNames = ["validate-inputs", "wait-deps", "ensure-state", "verify"] as const;
export type Phase = (typeof phaseNames)[number];

export interface RunContext {
  loaded: LoadedUnit;
  namespace: string;
  redactor: Redactor;
  log: Logger;
  kube(): Kube;
  env: NodeJS.ProcessEnv;
  /** Bounds one input read or probe attempt; the unit's waitTimeoutSeconds bounds the whole wait. */
  requestTimeoutMs?: number;
  /** Where the step's writes are recorded as they happen; the caller reads it whether the phase succeeds or fails. */
  changes: ChangeLog;
}

export interface PhaseReport {
  phase: Phase;
  action?: Action;
  /** Argo output parameters besides result/summary; never secret. */
  outputs: Record<string, string>;
  summary: Record<string, unknown>;
}

type PhaseFn = (ctx: RunContext) => Promise<PhaseReport>;

async function resolveAll(ctx: RunContext) {
  const { unit, kind, settings } = ctx.loaded;
  return resolveInputs(unit.spec.inputs, {
    env: {
      namespace: ctx.namespace,
      kube: ctx.kube,
      env: ctx.env,
      timeoutMs: ctx.requestTimeoutMs ?? 10_000,
      redactor: ctx.redactor,
    },
    redactor: ctx.redactor,
    managed: unit.spec.managed,
    implicit: uniqueImplicit([
      ...implicitInputsOfRefs(Object.values(unit.spec.inputs)),
      ...(kind.implicitInputs?.(settings) ?? []),
    ]),
  });
}

/** Later phases read inputs again from their authorities: secrets never travel between steps. */
async function requireInputs(ctx: RunContext): Promise<ResolvedInputs> {
  const r = await resolveAll(ctx);
  if (r.problems.length) throw missingInputs(r.problems, r.forbidden);
  return r.inputs;
}

function kindContext(ctx: RunContext, inputs: ResolvedInputs): KindContext {
  return {
    unit: ctx.loaded.unit,
    namespace: ctx.namespace,
    inputs,
    kube: ctx.kube,
    log: ctx.log,
    redactor: ctx.redactor,
    env: ctx.env,
    record: ctx.changes.record,
    value: (v: InputValue) => {
      if (typeof v === "string") return v;
      const resolved = inputs.get(v.input);
      if (resolved === undefined)
        throw new SeedError(ExitCode.missingInput, `input ${v.input} has no value`, "declare and provide the input");
      return resolved;
    },
  };
}

const validateInputs: PhaseFn = async (ctx) => {
  const r = await resolveAll(ctx);
  const declared = Object.keys(ctx.loaded.unit.spec.inputs);
  for (const name of declared) {
    if (r.inputs.get(name) !== undefined)
      ctx.log.info({ event: "input.resolved", input: name, secret: r.inputs.isSecret(name) }, "input resolved");
  }
  if (r.problems.length) throw missingInputs(r.problems, r.forbidden);
  return {
    phase: "validate-inputs",
    outputs: { fingerprint: ctx.loaded.fingerprint, facts: JSON.stringify(r.facts) },
    summary: { inputs: declared.length, facts: Object.keys(r.facts) },
  };
};

const waitDeps: PhaseFn = async (ctx) => {
  const { unit, kind, settings } = ctx.loaded;
  const deps = [...unit.spec.dependencies, ...kind.dependencies(settings, ctx.namespace)];
  const { waitedMs, attempts } = await waitForDependencies(deps, {
    env: { kube: ctx.kube, namespace: ctx.namespace, attemptTimeoutMs: ctx.requestTimeoutMs ?? 10_000 },
    timeoutSeconds: unit.spec.waitTimeoutSeconds,
    log: ctx.log,
  });
  return { phase: "wait-deps", outputs: {}, summary: { dependencies: deps.length, waitedMs, attempts } };
};

const ensureState: PhaseFn = async (ctx) => {
  const { unit, kind, settings } = ctx.loaded;
  if (unit.spec.pattern === "operator") {
    ctx.log.info(
      { event: "ensure.skipped" },
      "operator-managed unit (P3): the operator is the authority, nothing to write",
    );
    return {
      phase: "ensure-state",
      action: "none",
      outputs: { action: "none", unit: unit.metadata.name, targets: "0", created: "0", updated: "0", unchanged: "0" },
      summary: { action: "none", changes: [] },
    };
  }
  const inputs = await requireInputs(ctx);
  let report;
  try {
    report = await kind.ensure(kindContext(ctx, inputs), settings);
  } catch (err) {
    throw asSeedError(
      err,
      ExitCode.ensureFailed,
      `ensure failed for kind ${kind.kind}`,
      "read the cause; the next scheduled run retries from the current state",
    );
  }
  const changes = ctx.changes.list();
  const action = actionOf(changes);
  ctx.log.info({ event: "ensure.done", action }, `state ${action}`);
  // Per-target evidence: the summary lists every target of a fan-out; the counts go to the
  // Event and, as output parameters, to the metrics.
  const targets = report ? report.targets : undefined;
  const counts = targetCounts(action, targets);
  return {
    phase: "ensure-state",
    action,
    outputs: {
      action,
      unit: unit.metadata.name,
      targets: String(counts.targets),
      created: String(counts.created),
      updated: String(counts.updated),
      unchanged: String(counts.unchanged),
    },
    summary: { action, changes: changes.map(describeChange), counts, ...(targets ? { targets } : {}) },
  };
};

const verify: PhaseFn = async (ctx) => {
  const { kind, settings } = ctx.loaded;
  const inputs = await requireInputs(ctx);
  let checks;
  try {
    checks = await kind.verify(kindContext(ctx, inputs), settings);
  } catch (err) {
    throw asSeedError(
      err,
      ExitCode.verifyFailed,
      `verify could not read the state for kind ${kind.kind}`,
      "check the unit's Role and the authority's availability",
    );
  }
  for (const c of checks)
    ctx.log.info({ event: "check", check: c.name, ok: c.ok, detail: c.detail }, `${c.ok ? "ok" : "FAILED"} ${c.name}`);
  const failed: Problem[] = checks.filter((c) => !c.ok).map((c) => ({ subject: c.name, message: c.detail }));
  if (failed.length) {
    throw new SeedError(
      ExitCode.verifyFailed,
      `${failed.length} of ${checks.length} checks failed`,
      "the next run's ensure-state repairs drift it owns; see each check",
      failed,
    );
  }
  return { phase: "verify", outputs: {}, summary: { checks: checks.length, passed: checks.length } };
};

export const phases: Record<Phase, PhaseFn> = {
  "validate-inputs": validateInputs,
  "wait-deps": waitDeps,
  "ensure-state": ensureState,
  verify,
};
