import { egress, type Redactor } from "./redact.js";

// Every failure a step can report is a SeedError: a reason an operator can act on, a hint
// that names the fix, and the exit code that tells the Argo UI which contract clause broke.

export const ExitCode = {
  ok: 0,
  internal: 1,
  invalidSpec: 10,
  missingInput: 11,
  dependencyTimeout: 12,
  ensureFailed: 13,
  verifyFailed: 14,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Which clause of the seeding contract a failure reports on, for humans reading the summary. */
export const clauseOf: Record<ExitCode, string> = {
  0: "",
  1: "internal error (a bug in reseed: please report it)",
  10: "C5 clean wiring: the unit spec is invalid",
  11: "C1 failfast: a required input is missing",
  12: "C1 failfast: a dependency did not become ready in time",
  13: "C2 idempotent ensure: the desired state could not be applied",
  14: "C3 self-healing: the desired state does not hold after ensure",
};

export interface Problem {
  /** Where the problem is: an input name, a field path, a dependency, a check. */
  subject: string;
  message: string;
}

export class SeedError extends Error {
  readonly code: ExitCode;
  readonly reason: string;
  readonly hint: string;
  readonly problems: Problem[];

  constructor(code: ExitCode, reason: string, hint: string, problems: Problem[] = []) {
    super(problems.length ? `${reason}: ${problems.map((p) => `${p.subject}: ${p.message}`).join("; ")}` : reason);
    this.name = "SeedError";
    this.code = code;
    this.reason = reason;
    this.hint = hint;
    this.problems = problems;
  }
}

export function invalidSpec(
  problems: Problem[],
  hint = "fix the unit spec (reseed lint <file> shows every problem)",
): SeedError {
  return new SeedError(ExitCode.invalidSpec, "invalid unit spec", hint, problems);
}

/**
 * Inputs that could not be used: still C1 (exit 11: nothing can run without them), but an
 * input the unit's service account may not read (`forbidden`, subjects of 403 answers) is a
 * wrong Role, not a missing value, and the reason and hint say so.
 */
export function missingInputs(problems: Problem[], forbidden: string[] = []): SeedError {
  const n = problems.length;
  const inputs = `${n} required input${n === 1 ? "" : "s"}`;
  const denied = forbidden.length;
  const provide = "provide every input listed from its authority (secrets pipeline, ConfigMap, environment)";
  const role =
    "the unit's Role (reseed-<unit>, rendered by the chart from the unit's inputs) must allow reading each input marked forbidden; if you changed an input's namespace or name, re-render and apply the chart";
  return new SeedError(
    ExitCode.missingInput,
    denied === n
      ? `${inputs} could not be read: permission denied`
      : denied
        ? `${inputs} missing or unusable (${denied} permission denied)`
        : `${inputs} missing or unusable`,
    `${denied === n ? role : denied ? `${role}; ${provide}` : provide}; nothing was written`,
    problems,
  );
}

/** Turns anything thrown into a SeedError, keeping only its message (never a stack or request body). */
export function asSeedError(err: unknown, code: ExitCode, reason: string, hint: string): SeedError {
  if (err instanceof SeedError) return err;
  return new SeedError(code, reason, hint, [{ subject: "cause", message: describeError(err) }]);
}

/**
 * What a failure says. For HTTP client errors (Kubernetes ApiException and alikes) the
 * server's own message is used, never the raw body: bodies of Secret requests carry data.
 * Nothing here shortens or rewrites the text: it may hold secret material, and only the
 * redactor may touch it first (summarize and egress mask it, then bound it).
 */
export function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const { code, body } = err as { code?: unknown; body?: unknown };
  if (typeof code !== "number") return withCauses(err);
  // @kubernetes/client-node hands the Status over as an object, a JSON string, or a JSON
  // string of a JSON string, depending on the call.
  let parsed: unknown = body;
  for (let i = 0; i < 2 && typeof parsed === "string"; i++) {
    try {
      parsed = JSON.parse(parsed);
    } catch {
      parsed = undefined;
    }
  }
  const message = (parsed as { message?: unknown } | undefined)?.message;
  return `HTTP ${code}${typeof message === "string" ? `: ${message}` : ""}`;
}

/**
 * The message and what caused it. fetch (undici) reports every network failure as "fetch
 * failed", and the steps' Kubernetes client as "request to the Kubernetes API failed"; both
 * keep what happened (ECONNREFUSED, ENOTFOUND, a certificate not trusted, the server gone
 * mid-request) only in `cause`: without it the summary would not name the fault
 * (docs/faults.md, the kube-apiserver rows).
 */
function withCauses(err: Error): string {
  const parts = [err.message];
  let cause: unknown = err.cause;
  for (let depth = 0; depth < 3 && cause instanceof Error; depth++, cause = cause.cause) {
    const code = (cause as { code?: unknown }).code;
    const text = typeof code === "string" && !cause.message.includes(code) ? `${code} ${cause.message}` : cause.message;
    if (text && !parts.some((p) => p.includes(text))) parts.push(text);
  }
  return parts.join(": ");
}

/** Longest part of a service's own words kept in an error: enough to act on, never a whole page. */
export const MAX_SERVICE_MESSAGE = 300;

/**
 * An HTTP answer as error evidence: the status, the service's error code and its message,
 * each masked before it is bounded (servers echo requests back, credentials included, in
 * all of these). Callers pass the fields they parsed out of the answer, never the body.
 */
export function httpAnswer(redactor: Redactor, status: number, code?: unknown, message?: unknown): string {
  const c = typeof code === "string" && code ? ` ${egress(redactor, code, 80)}` : "";
  const m = typeof message === "string" && message ? `: ${egress(redactor, message, MAX_SERVICE_MESSAGE)}` : "";
  return `HTTP ${status}${c}${m}`;
}
