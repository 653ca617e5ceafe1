import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const dist = fileURLToPath(new URL("../../dist/", import.meta.url));

export type StepName = "validate-inputs" | "wait-deps" | "ensure-state" | "verify";

export interface StepRun {
  phase: StepName;
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  /** What the step wrote to its termination log (RESEED_TERMINATION_LOG), if anything. */
  termination?: string;
}

export interface StepOptions {
  kubeconfig: string;
  namespace: string;
  env?: Record<string, string>;
  workflow?: { name: string; uid?: string; cronWorkflow?: string };
  /** Where the step programs are (default dist/): the leak hunt's planted-leak test bundles its own. */
  programDir?: string;
}

/** Runs one bundled step program as its image would: a process with env, an output dir, an exit code. */
export async function runStepProcess(
  phase: StepName,
  unit: unknown,
  opts: StepOptions & { fingerprint?: string },
): Promise<StepRun> {
  const program = path.join(opts.programDir ?? dist, `${phase}.mjs`);
  if (!existsSync(program)) throw new Error(`${program} is missing: run 'make build' (make test does it first)`);
  const outDir = await mkdtemp(path.join(tmpdir(), "reseed-out-"));
  const terminationDir = await mkdtemp(path.join(tmpdir(), "reseed-termination-"));
  const terminationLog = path.join(terminationDir, "termination-log");
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "",
    KUBECONFIG: opts.kubeconfig,
    RESEED_UNIT: JSON.stringify(unit),
    RESEED_NAMESPACE: opts.namespace,
    RESEED_OUTPUT_DIR: outDir,
    RESEED_TERMINATION_LOG: terminationLog,
    RESEED_LOG_FORMAT: "json",
    ...(opts.fingerprint ? { RESEED_FINGERPRINT: opts.fingerprint } : {}),
    ...(opts.workflow
      ? {
          RESEED_WORKFLOW_NAME: opts.workflow.name,
          ...(opts.workflow.uid ? { RESEED_WORKFLOW_UID: opts.workflow.uid } : {}),
          ...(opts.workflow.cronWorkflow ? { RESEED_CRONWORKFLOW: opts.workflow.cronWorkflow } : {}),
        }
      : {}),
    ...opts.env,
  };
  const child = spawn(process.execPath, [program], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((resolve) => child.on("close", (c) => resolve(c ?? -1)));
  const outputs: Record<string, string> = {};
  for (const f of await readdir(outDir)) outputs[f] = await readFile(path.join(outDir, f), "utf8");
  const termination = existsSync(terminationLog) ? await readFile(terminationLog, "utf8") : undefined;
  await rm(outDir, { recursive: true, force: true });
  await rm(terminationDir, { recursive: true, force: true });
  return { phase, code, stdout, stderr, outputs, ...(termination === undefined ? {} : { termination }) };
}

/**
 * The unit DAG as the WorkflowTemplate runs it: each step only after the previous one
 * succeeded, the validated fingerprint passed on, ensure-state left out for P3 units.
 */
export async function runDag(unit: { spec: { pattern: string } }, opts: StepOptions): Promise<StepRun[]> {
  const order: StepName[] =
    unit.spec.pattern === "operator"
      ? ["validate-inputs", "wait-deps", "verify"]
      : ["validate-inputs", "wait-deps", "ensure-state", "verify"];
  const runs: StepRun[] = [];
  let fingerprint: string | undefined;
  for (const phase of order) {
    const run = await runStepProcess(phase, unit, { ...opts, ...(fingerprint ? { fingerprint } : {}) });
    runs.push(run);
    if (run.code !== 0) break;
    fingerprint ??= run.outputs.fingerprint;
  }
  return runs;
}

export const allText = (runs: StepRun[]) =>
  runs.map((r) => [r.stdout, r.stderr, ...Object.values(r.outputs), r.termination ?? ""].join("\n")).join("\n");

/** The exit code of each run, in the order they ran. */
export const codes = (runs: StepRun[]) => runs.map((r) => r.code);

/** The problems a step's last line reports, as text to match. */
export const problemsOf = (run: StepRun) => JSON.stringify(lastLine(run).problems);

export function lastLine(run: StepRun): Record<string, unknown> {
  const lines = run.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
}
