import { ExitCode, clauseOf } from "../core/errors.js";
import { createLogger, type LogSink } from "../core/log.js";
import { phaseNames, phases, type Phase, type PhaseReport } from "../runtime/phases.js";
import { Redactor } from "../core/redact.js";
import { actionOf } from "../core/changes.js";
import { changeLog, headline, lazyKube, summarize, toSeedError, unitNamespace } from "../runtime/runtime.js";
import type { LoadedUnit } from "../runtime/unit.js";

export interface UnitEvidence {
  unit: string;
  kind: string;
  pattern: string;
  result: "succeeded" | "failed";
  failedPhase?: Phase;
  action: string;
  exitCode: ExitCode;
  durationMs: number;
  summaries: Record<string, unknown>[];
}

/**
 * The local dev loop: all four phases of each unit in this process, against the current
 * kubeconfig, with the same phase code the step images run. A failed phase ends the unit,
 * as it ends the Argo DAG.
 */
export async function runUnits(
  units: LoadedUnit[],
  opts: {
    kubeconfig?: string | undefined;
    sink?: LogSink;
    pretty?: boolean;
    env?: NodeJS.ProcessEnv;
    redactor?: Redactor;
  },
): Promise<UnitEvidence[]> {
  // Each unit has a redactor of its own; the Kubernetes credential goes into every one.
  const kubeCredentials: string[] = [];
  let current: Redactor | undefined;
  const kube = lazyKube((credential) => {
    kubeCredentials.push(credential);
    current?.register(credential);
  }, opts.kubeconfig);
  const env = opts.env ?? process.env;
  const evidence: UnitEvidence[] = [];
  for (const loaded of units) {
    const redactor = opts.redactor ?? new Redactor();
    for (const credential of kubeCredentials) redactor.register(credential);
    current = redactor;
    const started = Date.now();
    const name = loaded.unit.metadata.name;
    const e: UnitEvidence = {
      unit: name,
      kind: loaded.kind.kind,
      pattern: loaded.unit.spec.pattern,
      result: "succeeded",
      action: "none",
      exitCode: ExitCode.ok,
      durationMs: 0,
      summaries: [],
    };
    for (const phase of phaseNames) {
      const log = createLogger({
        redactor,
        phase,
        unit: name,
        ...(opts.sink ? { sink: opts.sink } : {}),
        ...(opts.pretty !== undefined ? { pretty: opts.pretty } : {}),
      });
      let report: PhaseReport | undefined;
      const changes = changeLog(() => log);
      try {
        const namespace = await unitNamespace(loaded, env, kube);
        report = await phases[phase]({ loaded, namespace, redactor, log, kube, env, changes });
        if (report.action) e.action = report.action;
        const summary = summarize({ code: ExitCode.ok, report, changes: changes.list() }, redactor);
        e.summaries.push({ phase, ...summary });
        log.info({ event: "step.summary", ...summary }, `${phase} succeeded`);
      } catch (err) {
        const error = toSeedError(err);
        // A unit that wrote before it failed shows what that did to its state.
        if (changes.list().length) e.action = actionOf(changes.list());
        const summary = summarize({ code: error.code, error, changes: changes.list() }, redactor);
        e.summaries.push({ phase, ...summary });
        log.error({ event: "step.summary", ...summary }, `${phase} failed: ${headline(summary)}`);
        Object.assign(e, { result: "failed", failedPhase: phase, exitCode: error.code });
        break;
      }
    }
    e.durationMs = Date.now() - started;
    evidence.push(e);
  }
  return evidence;
}

export function evidenceTable(evidence: UnitEvidence[]): string {
  const rows = [
    ["UNIT", "KIND", "PATTERN", "RESULT", "ACTION", "EXIT", "TIME"],
    ...evidence.map((e) => [
      e.unit,
      e.kind,
      e.pattern,
      e.result === "succeeded" ? "verified" : `failed at ${e.failedPhase}`,
      e.action,
      String(e.exitCode),
      `${e.durationMs}ms`,
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const lines = rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd(),
  );
  const failures = evidence
    .filter((e) => e.result === "failed")
    .map((e) => `  ${e.unit}: exit ${e.exitCode} — ${clauseOf[e.exitCode]}`);
  return [...lines, ...(failures.length ? ["", "Failed units:", ...failures] : [])].join("\n");
}
