import { CustomObjectsApi } from "@kubernetes/client-node";
import { clauseOf, ExitCode } from "../core/errors.js";
import { nextTicks } from "../core/cron.js";
import { clientNodeConfig } from "../core/kube.js";

// `reseed status`: one line per unit from what Argo keeps — the CronWorkflows and Workflows
// labelled reseed.dev/unit — so a platform's own checks (and a human) see which unit failed,
// on which clause, and which has not succeeded for too long, without the README.

/** The CLI's exit code when any unit is unhealthy (0 when all are; 1 stays "a bug in reseed"). */
export const UNHEALTHY = 3;

/** A unit is unhealthy when it has not succeeded within this many schedule intervals (--intervals). */
export const DEFAULT_INTERVALS = 3;

interface Meta {
  name: string;
  namespace?: string;
  creationTimestamp?: string;
  labels?: Record<string, string>;
}

interface Node {
  displayName?: string;
  type?: string;
  phase?: string;
  message?: string;
  outputs?: { exitCode?: string; parameters?: { name: string; value?: string }[] };
}

export interface CronWorkflowObject {
  metadata: Meta;
  spec: { schedule?: string; schedules?: string[]; timezone?: string; suspend?: boolean };
}

export interface WorkflowObject {
  metadata: Meta;
  status?: { phase?: string; startedAt?: string; finishedAt?: string; message?: string; nodes?: Record<string, Node> };
}

export interface UnitStatus {
  unit: string;
  namespace: string;
  pattern: string;
  schedule?: string;
  suspended?: boolean;
  lastRun?: {
    name: string;
    startedAt?: string;
    ageSeconds?: number;
    result: string;
    /** The failed step, its exit code, the clause that code reports and Argo's node message (the step's termination message). */
    step?: string;
    exitCode?: number;
    clause?: string;
    message?: string;
  };
  lastSuccess?: string;
  /** ensure-state's `action` in the newest run that got that far. */
  lastAction?: string;
  nextRun?: string;
  healthy: boolean;
  /** Why the unit is unhealthy, in words. */
  problem?: string;
}

const FINISHED = new Set(["Succeeded", "Failed", "Error"]);
const time = (s: string | undefined) => (s ? Date.parse(s) : Number.NaN);
const startOf = (wf: WorkflowObject) => time(wf.status?.startedAt ?? wf.metadata.creationTimestamp);
const outputOf = (node: Node | undefined, name: string) =>
  node?.outputs?.parameters?.find((p) => p.name === name)?.value;

interface RunStep {
  name: string;
  node: Node;
  exitCode?: string;
  output(name: string): string | undefined;
}

/**
 * A run's steps in either run mode: its Pod nodes (runMode dag: a pod per step, outputs on
 * each), or the Container nodes of its one pod (containerSet: `main` is no step, and the
 * outputs are on the pod node as <step>-<name>).
 */
function stepsOf(wf: WorkflowObject): RunStep[] {
  const nodes = Object.values(wf.status?.nodes ?? {});
  const containers = nodes.filter((n) => n.type === "Container" && n.displayName !== "main");
  if (containers.length === 0)
    return nodes
      .filter((n) => n.type === "Pod")
      .map((node) => ({
        name: node.displayName ?? "",
        node,
        ...(node.outputs?.exitCode ? { exitCode: node.outputs.exitCode } : {}),
        output: (name) => outputOf(node, name),
      }));
  const pod = nodes.find((n) => n.type === "Pod");
  return containers.map((node) => {
    const name = node.displayName ?? "";
    // The step's own record, else the code Argo put in the node message (a killed step wrote none).
    const exitCode = outputOf(pod, `${name}-exit-code`) || /\(exit code (\d+)\)/.exec(node.message ?? "")?.[1];
    return { name, node, ...(exitCode ? { exitCode } : {}), output: (o) => outputOf(pod, `${name}-${o}`) };
  });
}

function lastRunOf(wf: WorkflowObject, now: number): NonNullable<UnitStatus["lastRun"]> {
  const result = wf.status?.phase || "Pending";
  const run: NonNullable<UnitStatus["lastRun"]> = { name: wf.metadata.name, result };
  if (wf.status?.startedAt) {
    run.startedAt = wf.status.startedAt;
    run.ageSeconds = Math.max(0, Math.round((now - time(wf.status.startedAt)) / 1000));
  }
  if (result === "Failed" || result === "Error") {
    // In one pod the steps after a failed one end in Error ("dependency ... exited"): the Failed one is the cause.
    const steps = stepsOf(wf);
    const failed = steps.find((s) => s.node.phase === "Failed") ?? steps.find((s) => s.node.phase === "Error");
    const code = Number(failed?.exitCode);
    if (failed?.name) run.step = failed.name;
    if (Number.isInteger(code)) {
      run.exitCode = code;
      const clause = clauseOf[code as ExitCode];
      if (clause) run.clause = clause;
    }
    const message = failed?.node.message ?? wf.status?.message;
    if (message) run.message = message;
  }
  return run;
}

/** Every unit's status, from the objects Argo keeps (pure: the caller lists them). */
export function unitStatuses(
  crons: CronWorkflowObject[],
  workflows: WorkflowObject[],
  now: number,
  intervals = DEFAULT_INTERVALS,
): UnitStatus[] {
  const key = (m: Meta) => `${m.namespace ?? ""}/${m.labels?.["reseed.dev/unit"] ?? m.name}`;
  const units = new Map<string, { meta: Meta; cron?: CronWorkflowObject; runs: WorkflowObject[] }>();
  for (const cron of crons) units.set(key(cron.metadata), { meta: cron.metadata, cron, runs: [] });
  for (const wf of workflows) {
    const entry = units.get(key(wf.metadata)) ?? { meta: wf.metadata, runs: [] };
    entry.runs.push(wf);
    units.set(key(wf.metadata), entry);
  }
  const out: UnitStatus[] = [];
  for (const { meta, cron, runs } of units.values()) {
    runs.sort((a, b) => startOf(b) - startOf(a) || b.metadata.name.localeCompare(a.metadata.name));
    const status: UnitStatus = {
      unit: meta.labels?.["reseed.dev/unit"] ?? meta.name,
      namespace: meta.namespace ?? "",
      pattern: meta.labels?.["reseed.dev/pattern"] ?? (cron ? "reconciler" : "hook"),
      healthy: true,
    };
    const last = runs[0];
    if (last) status.lastRun = lastRunOf(last, now);
    const success = runs.find((wf) => wf.status?.phase === "Succeeded");
    if (success)
      status.lastSuccess =
        success.status?.finishedAt ?? success.status?.startedAt ?? success.metadata.creationTimestamp;
    const action = runs
      .map((wf) =>
        stepsOf(wf)
          .find((s) => s.name === "ensure-state")
          ?.output("action"),
      )
      .find((a) => a !== undefined);
    if (action) status.lastAction = action;

    const lastFinished = runs.find((wf) => FINISHED.has(wf.status?.phase ?? ""));
    const problems: string[] = [];
    if (lastFinished && lastFinished.status?.phase !== "Succeeded") {
      problems.push(`last run ${lastFinished.metadata.name} ${lastFinished.status?.phase?.toLowerCase()}`);
    }
    if (cron) {
      const schedules = cron.spec.schedules ?? (cron.spec.schedule ? [cron.spec.schedule] : []);
      status.schedule = schedules.join(", ");
      if (cron.spec.suspend) status.suspended = true;
      const zone = cron.spec.timezone ?? "UTC";
      const ticks = schedules.map((s) => nextTicks(s, zone, now, 2)).filter((t) => t.length === 2);
      if (ticks.length && !cron.spec.suspend)
        status.nextRun = new Date(Math.min(...ticks.map((t) => t[0]!))).toISOString();
      // "Within N intervals" of the last success, or of the unit's creation before any: a
      // fresh unit is not unhealthy before it had its chances to run. The interval is the gap
      // between the next two ticks (the shortest, with several schedules).
      const interval = ticks.length ? Math.min(...ticks.map((t) => t[1]! - t[0]!)) : undefined;
      const since = status.lastSuccess ? time(status.lastSuccess) : time(cron.metadata.creationTimestamp);
      if (interval && !cron.spec.suspend && now - since > intervals * interval) {
        problems.push(
          status.lastSuccess
            ? `no success within ${intervals} intervals (last ${status.lastSuccess})`
            : `no success within ${intervals} intervals of its creation`,
        );
      }
    }
    if (problems.length) {
      status.healthy = false;
      status.problem = problems.join("; ");
    }
    out.push(status);
  }
  return out.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.unit.localeCompare(b.unit));
}

const ago = (seconds: number | undefined) =>
  seconds === undefined
    ? ""
    : seconds < 120
      ? `${seconds}s`
      : seconds < 7200
        ? `${Math.round(seconds / 60)}m`
        : seconds < 172800
          ? `${Math.round(seconds / 3600)}h`
          : `${Math.round(seconds / 86400)}d`;

/** The human form: one row per unit, then the message of each unhealthy one. */
export function statusTable(statuses: UnitStatus[]): string {
  const header = ["UNIT", "PATTERN", "SCHEDULE", "LAST RUN", "AGE", "RESULT", "EXIT", "CLAUSE", "ACTION", "NEXT"];
  const rows = statuses.map((s) => [
    s.unit,
    s.pattern,
    s.suspended ? `${s.schedule} (suspended)` : (s.schedule ?? ""),
    s.lastRun?.name ?? "-",
    ago(s.lastRun?.ageSeconds),
    s.lastRun?.result ?? "",
    s.lastRun?.exitCode === undefined ? "" : String(s.lastRun.exitCode),
    s.lastRun?.clause?.split(":")[0] ?? "",
    s.lastAction ?? "",
    s.nextRun?.slice(11, 16) ?? "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  const notes = statuses
    .filter((s) => !s.healthy)
    .map((s) => `${s.unit}: ${s.problem}${s.lastRun?.message ? `\n  ${s.lastRun.step}: ${s.lastRun.message}` : ""}`);
  return [line(header), ...rows.map(line), ...(notes.length ? ["", ...notes] : [])].join("\n");
}

/** Lists the labelled CronWorkflows and Workflows with the current kubeconfig's credentials. */
export async function readStatuses(opts: {
  kubeconfig?: string | undefined;
  namespace?: string | undefined;
  allNamespaces: boolean;
  intervals: number;
  now?: number;
}): Promise<UnitStatus[]> {
  const config = await clientNodeConfig(opts.kubeconfig);
  const api = config.makeApiClient(CustomObjectsApi);
  const namespace = opts.namespace ?? config.getContextObject(config.getCurrentContext())?.namespace ?? "default";
  const list = async <T>(plural: string): Promise<T[]> => {
    const base = { group: "argoproj.io", version: "v1alpha1", plural, labelSelector: "reseed.dev/unit" };
    const res = (
      opts.allNamespaces
        ? await api.listClusterCustomObject(base)
        : await api.listNamespacedCustomObject({ ...base, namespace })
    ) as { items?: T[] };
    return res.items ?? [];
  };
  const [crons, workflows] = await Promise.all([
    list<CronWorkflowObject>("cronworkflows"),
    list<WorkflowObject>("workflows"),
  ]);
  return unitStatuses(crons, workflows, opts.now ?? Date.now(), opts.intervals);
}
