import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { ChangeLog, describeChange, type Change } from "../core/changes.js";
import { ExitCode, SeedError, clauseOf, describeError, invalidSpec, type Problem } from "../core/errors.js";
import { emitEvent, workflowRefFromEnv } from "./evidence.js";
import { connectKube, type Kube } from "../core/kube.js";
import { createLogger, type Logger } from "../core/log.js";
import { writeOutputs } from "./outputs.js";
import { phases, type Phase, type PhaseReport, type RunContext } from "./phases.js";
import { egress, Redactor } from "../core/redact.js";
import { loadKinds, type KindCatalog } from "../kinds/kind.js";
import { loadUnit, type LoadedUnit } from "./unit.js";

/** Wraps stdout and stderr so that even a library's console output cannot carry a secret. */
export function guardProcessOutput(redactor: Redactor): void {
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream) as (chunk: unknown, ...rest: unknown[]) => boolean;
    stream.write = ((chunk: unknown, ...rest: unknown[]) =>
      write(
        typeof chunk === "string"
          ? redactor.mask(chunk)
          : chunk instanceof Uint8Array
            ? redactor.mask(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("utf8"))
            : chunk,
        ...rest,
      )) as typeof stream.write;
  }
}

/**
 * The step's Kubernetes clients, made on first use. The credential they send (a token in the
 * kubeconfig, or the pod's ServiceAccount token file) is registered before each request: a
 * proxy or an API server error that quotes the Authorization header must not carry it out.
 */
export function lazyKube(register: (credential: string) => void, kubeconfig?: string): () => Kube {
  const kube = connectKube(kubeconfig, register);
  return () => kube;
}

/** The one document of a JSON text; undefined for anything else (YAML), which parseDocuments reads and reports on. */
function jsonDocument(text: string): unknown[] | undefined {
  try {
    const doc: unknown = JSON.parse(text);
    return doc !== null && typeof doc === "object" ? [doc] : undefined;
  } catch {
    return undefined;
  }
}

export async function readUnitFromEnv(env: NodeJS.ProcessEnv): Promise<unknown> {
  const text = env.RESEED_UNIT ?? (env.RESEED_UNIT_FILE ? await readFile(env.RESEED_UNIT_FILE, "utf8") : undefined);
  if (!text)
    throw invalidSpec(
      [{ subject: "RESEED_UNIT", message: "is not set: the step needs the unit document (JSON or YAML)" }],
      "run the step through the reseed-unit WorkflowTemplate",
    );
  const docs = jsonDocument(text) ?? (await import("./documents.js")).parseDocuments(text, "RESEED_UNIT");
  if (docs.length !== 1)
    throw invalidSpec([
      { subject: "RESEED_UNIT", message: `holds ${docs.length} documents, expected exactly one unit` },
    ]);
  return docs[0];
}

/**
 * The fingerprint validate-inputs wrote, which a later step's unit must match: a parameter
 * (RESEED_FINGERPRINT, runMode dag) or its output file on the pod's shared /tmp
 * (RESEED_FINGERPRINT_FILE, runMode containerSet). Neither set: nothing to check (a step run
 * alone, `reseed run`).
 */
async function expectedFingerprint(env: NodeJS.ProcessEnv): Promise<{ subject: string; value: string } | undefined> {
  if (env.RESEED_FINGERPRINT) return { subject: "RESEED_FINGERPRINT", value: env.RESEED_FINGERPRINT };
  const file = env.RESEED_FINGERPRINT_FILE;
  if (!file) return undefined;
  const value = await readFile(file, "utf8").then(
    (text) => text.trim(),
    () => "",
  );
  if (!value)
    throw invalidSpec(
      [
        {
          subject: "RESEED_FINGERPRINT_FILE",
          message: `${file} holds no fingerprint: validate-inputs did not write one`,
        },
      ],
      "the step runs only after validate-inputs succeeded in the same pod; run the unit again",
    );
  return { subject: "RESEED_FINGERPRINT_FILE", value };
}

export async function unitNamespace(loaded: LoadedUnit, env: NodeJS.ProcessEnv, kube: () => Kube): Promise<string> {
  return loaded.unit.spec.namespace ?? env.RESEED_NAMESPACE ?? (await kube().contextNamespace()) ?? "default";
}

export interface StepResult {
  code: ExitCode;
  report?: PhaseReport;
  error?: SeedError;
  /** What the step wrote before it ended, however it ended. */
  changes?: readonly Change[];
}

/** A step's change record: each write is logged the moment it is recorded, masked like every line. */
export function changeLog(log: () => Logger): ChangeLog {
  return new ChangeLog((c) => log().info({ event: "state.changed", ...c }, describeChange(c)));
}

/** Longest problem message in evidence: a server's answer can be any length. */
export const MAX_PROBLEM = 500;

/**
 * The summary line that closes every step's log: the evidence an operator reads first.
 * Error text is masked here, before it is cut to one bounded line (see egress), so the log,
 * the `summary` output and the Event all carry the same already-masked words.
 */
export function summarize(r: StepResult, redactor: Redactor): Record<string, unknown> {
  if (!r.error) return { result: "succeeded", ...r.report?.summary };
  return {
    result: "failed",
    exitCode: r.error.code,
    clause: clauseOf[r.error.code],
    reason: egress(redactor, r.error.reason, MAX_PROBLEM),
    hint: egress(redactor, r.error.hint, MAX_PROBLEM),
    problems: r.error.problems.map((p) => ({
      subject: egress(redactor, p.subject, MAX_PROBLEM),
      message: egress(redactor, p.message, MAX_PROBLEM),
    })) satisfies Problem[],
    // A step that wrote and then failed says what it wrote: the state is no longer what it read.
    ...(r.changes?.length ? { changes: r.changes.map((c) => egress(redactor, describeChange(c), MAX_PROBLEM)) } : {}),
  };
}

/** One line for a failed step, from its already-masked summary. */
export function headline(summary: Record<string, unknown>): string {
  const problems = (summary.problems as Problem[] | undefined) ?? [];
  const changes = (summary.changes as string[] | undefined) ?? [];
  const failure = problems.length
    ? `${String(summary.reason)}: ${problems.map((p) => `${p.subject}: ${p.message}`).join("; ")}`
    : String(summary.reason);
  return changes.length ? `${failure}; written before the failure: ${changes.join("; ")}` : failure;
}

/** Where the kubelet reads a container's termination message (Kubernetes' default terminationMessagePath). */
export const TERMINATION_LOG = "/dev/termination-log";

/**
 * Longest termination message. Kubernetes keeps up to 4 KiB, but Argo prints it after
 * `main: Error (exit code N):` in the node message, one line in `argo get`, `argo list` and the UI.
 */
export const MAX_TERMINATION_MESSAGE = 300;

/**
 * The one line a failed step leaves as its container's termination message, which Argo appends
 * to the node message: the clause, then the first problem (subject and message) or the reason.
 * Built from the already-masked summary, then masked again whole and bounded (egress): the
 * composition must not join two harmless halves into a registered form.
 */
export function terminationMessage(summary: Record<string, unknown>, redactor: Redactor): string {
  const problems = (summary.problems as Problem[] | undefined) ?? [];
  const first = problems[0];
  const what = first ? `${first.subject}: ${first.message}` : String(summary.reason);
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more in the log)` : "";
  return egress(redactor, `${String(summary.clause)}: ${what}${more}`, MAX_TERMINATION_MESSAGE);
}

/** The termination log to write: RESEED_TERMINATION_LOG (tests), else Kubernetes' file when the step runs in a container. */
export function terminationLogPath(env: NodeJS.ProcessEnv): string | undefined {
  return env.RESEED_TERMINATION_LOG ?? (existsSync(TERMINATION_LOG) ? TERMINATION_LOG : undefined);
}

export function toSeedError(err: unknown): SeedError {
  return err instanceof SeedError
    ? err
    : new SeedError(
        ExitCode.internal,
        "unexpected error",
        "this is a bug in reseed; the message below is all it printed",
        [{ subject: "error", message: describeError(err) }],
      );
}

/** Runs one phase as a step container: the whole life of a step image's process. */
export async function runStep(
  phase: Phase,
  kinds: KindCatalog,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExitCode> {
  const redactor = new Redactor();
  guardProcessOutput(redactor);
  const kube = lazyKube((credential) => redactor.register(credential));
  let log: Logger = createLogger({ redactor, phase });
  let loaded: LoadedUnit | undefined;
  let namespace: string | undefined;
  let result: StepResult;
  const changes = changeLog(() => log);
  try {
    const doc = await readUnitFromEnv(env);
    loaded = loadUnit(doc, await loadKinds(kinds, [kindNameOf(doc)]));
    log = log.forUnit(loaded.unit.metadata.name);
    const checked = await expectedFingerprint(env);
    if (checked && checked.value !== loaded.fingerprint) {
      throw invalidSpec(
        [
          {
            subject: checked.subject,
            message: `validate-inputs checked spec ${checked.value}, this step got ${loaded.fingerprint}`,
          },
        ],
        "the unit changed during the run; the next run uses the new spec",
      );
    }
    namespace = await unitNamespace(loaded, env, kube);
    const ctx: RunContext = { loaded, namespace, redactor, log, kube, env, changes };
    result = { code: ExitCode.ok, report: await phases[phase](ctx), changes: changes.list() };
  } catch (err) {
    const error = toSeedError(err);
    result = { code: error.code, error, changes: changes.list() };
  }

  const summary = summarize(result, redactor);
  if (result.error) log.error({ event: "step.summary", ...summary }, `${phase} failed: ${headline(summary)}`);
  else log.info({ event: "step.summary", ...summary }, `${phase} succeeded`);

  const terminationLog = terminationLogPath(env);
  if (result.error && terminationLog) {
    await writeFile(terminationLog, terminationMessage(summary, redactor)).catch((err: unknown) =>
      log.warn(
        { event: "termination-message.failed", reason: describeError(err) },
        "could not write the termination message",
      ),
    );
  }

  if (env.RESEED_OUTPUT_DIR) {
    await writeOutputs(
      env.RESEED_OUTPUT_DIR,
      {
        ...result.report?.outputs,
        result: result.error ? "failed" : "succeeded",
        "exit-code": String(result.code),
        summary: JSON.stringify({ phase, unit: loaded?.unit.metadata.name, ...summary }),
      },
      redactor,
    ).catch((err: unknown) =>
      log.warn({ event: "outputs.failed", reason: describeError(err) }, "could not write output parameters"),
    );
  }
  // The Event lives beside the Workflow it is about, which may differ from the unit's namespace.
  const ref = workflowRefFromEnv(env, env.RESEED_NAMESPACE ?? namespace ?? "default");
  if (ref && loaded) {
    await emitEvent(
      kube(),
      ref,
      {
        phase,
        unit: loaded.unit.metadata.name,
        ok: !result.error,
        reason: result.error
          ? eventReason[result.error.code]
          : phase === "ensure-state"
            ? `State${capitalize(result.report?.action ?? "none")}`
            : "Succeeded",
        note: result.error
          ? `${phase}: ${headline(summary)}`
          : `${phase} succeeded: ${JSON.stringify(eventSummary(result.report?.summary ?? {}))}`,
      },
      redactor,
      log,
    );
  }
  return result.code;
}

const eventReason: Record<ExitCode, string> = {
  0: "Succeeded",
  1: "InternalError",
  10: "InvalidSpec",
  11: "MissingInput",
  12: "DependencyTimeout",
  13: "EnsureFailed",
  14: "VerifyFailed",
};

/** A fan-out's list of targets stays in the log and the summary output; the Event (1 KiB) carries its counts. */
function eventSummary(summary: Record<string, unknown>): Record<string, unknown> {
  const { targets: _targets, ...rest } = summary;
  return rest;
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * The kind a unit document names, read before it is checked, so the step loads that kind's
 * code alone; loadUnit then reports whatever is wrong with the document, this name included.
 */
function kindNameOf(doc: unknown): string {
  const kind = (doc as { spec?: { ensure?: { kind?: unknown } } } | null)?.spec?.ensure?.kind;
  return typeof kind === "string" ? kind : "";
}

/** The whole main of a step image. */
export function stepMain(phase: Phase, kinds: KindCatalog): void {
  runStep(phase, kinds).then(
    (code) => {
      process.exitCode = code;
    },
    () => {
      process.exitCode = ExitCode.internal;
    },
  );
}
