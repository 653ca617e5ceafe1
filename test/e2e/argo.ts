import type { AuditLog } from "../harness/audit.js";
import { cli, type E2eEnv, type Kube, waitFor } from "./cluster.js";

export const NS = "reseed";
export const STEPS = ["validate-inputs", "wait-deps", "ensure-state", "verify"] as const;
export type Step = (typeof STEPS)[number];

interface Parameter {
  name: string;
  value?: string;
}

export interface WorkflowNode {
  id: string;
  displayName: string;
  type: string;
  phase: string;
  message?: string;
  startedAt?: string;
  finishedAt?: string;
  inputs?: { parameters?: Parameter[] };
  outputs?: { parameters?: Parameter[]; exitCode?: string };
}

export interface Workflow {
  metadata: {
    name: string;
    uid: string;
    creationTimestamp: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind: string; name: string }[];
  };
  spec: Record<string, unknown>;
  status?: {
    phase?: string;
    message?: string;
    startedAt?: string;
    finishedAt?: string;
    nodes?: Record<string, WorkflowNode>;
  };
}

/** The steps a workflow ran, sorted: its Pod nodes (the DAG node is not a step). Both installs' hook checks compare it with STEPS. */
export function ranSteps(wf: Workflow): string[] {
  return Object.values(wf.status?.nodes ?? {})
    .filter((n) => n.type === "Pod")
    .map((n) => n.displayName)
    .sort();
}

interface Pod {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { containers: { name: string }[]; initContainers?: { name: string }[] };
  status: { phase: string };
}

const FINISHED = new Set(["Succeeded", "Failed", "Error"]);
const WORKFLOWS = `/apis/argoproj.io/v1alpha1/namespaces/${NS}/workflows`;
const unitRuns = (unit: string) => `${WORKFLOWS}?labelSelector=${encodeURIComponent(`reseed.dev/unit=${unit}`)}`;

export const isFinished = (wf: Workflow) => FINISHED.has(wf.status?.phase ?? "");

/** Argo, through its CLI and the Kubernetes API only. */
export class Argo {
  constructor(
    readonly env: E2eEnv,
    readonly kube: Kube,
  ) {}

  cli(...args: string[]): string {
    return cli(this.env, this.env.argo, [...args, "--namespace", NS]);
  }

  /** Every run of a unit, oldest first. */
  async runs(unit: string): Promise<Workflow[]> {
    const list = await this.kube.get<{ items: Workflow[] }>(unitRuns(unit));
    return list.items.sort(
      (a, b) =>
        a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp) ||
        a.metadata.name.localeCompare(b.metadata.name),
    );
  }

  /** Deletes every run of a unit and waits until they are gone. */
  async deleteRuns(unit: string): Promise<void> {
    await this.kube.json("DELETE", unitRuns(unit));
    await waitFor(`the runs of ${unit} to be deleted`, 60_000, async () =>
      (await this.runs(unit)).length === 0 ? true : undefined,
    );
  }

  async workflow(name: string): Promise<Workflow> {
    return this.kube.get<Workflow>(`${WORKFLOWS}/${name}`);
  }

  /** The first run of the unit whose name is not in `known`. */
  async nextRun(unit: string, known: Set<string>, timeoutMs: number): Promise<Workflow> {
    return waitFor(`a new run of ${unit}`, timeoutMs, async () =>
      (await this.runs(unit)).find((wf) => !known.has(wf.metadata.name)),
    );
  }

  async finished(name: string, timeoutMs: number): Promise<Workflow> {
    return waitFor(`workflow ${name} to finish`, timeoutMs, async () => {
      const wf = await this.workflow(name);
      return isFinished(wf) ? wf : undefined;
    });
  }

  /** Resumes the unit until its next scheduled run exists, then suspends it again. */
  async nextScheduledRun(unit: string, timeoutMs: number): Promise<Workflow> {
    const known = new Set((await this.runs(unit)).map((wf) => wf.metadata.name));
    this.resume(unit);
    try {
      return await this.nextRun(unit, known, timeoutMs);
    } finally {
      this.suspend(unit);
    }
  }

  /** `argo submit --from cronwf/<unit>`: the operator's rerun. Returns the new workflow's name. */
  submitFrom(unit: string): string {
    return this.cli("submit", "--from", `cronwf/${unit}`, "--output", "name").trim();
  }

  suspend(unit: string): void {
    this.cli("cron", "suspend", unit);
  }

  resume(unit: string): void {
    this.cli("cron", "resume", unit);
  }

  /** The workflow's step nodes by step name (Pod nodes only: the DAG node is not a step). */
  steps(wf: Workflow): Partial<Record<Step, WorkflowNode>> {
    const nodes = Object.values(wf.status?.nodes ?? {}).filter((n) => n.type === "Pod");
    return Object.fromEntries(nodes.map((n) => [n.displayName, n]));
  }

  /** runMode containerSet: the run's container nodes (a step each, and main) by name. */
  containers(wf: Workflow): Record<string, WorkflowNode> {
    const nodes = Object.values(wf.status?.nodes ?? {}).filter((n) => n.type === "Container");
    return Object.fromEntries(nodes.map((n) => [n.displayName, n]));
  }

  /** Pods of the workflow that still exist, by the step (node display name) they ran. */
  async pods(wf: Workflow): Promise<Map<string, Pod>> {
    const list = await this.kube.get<{ items: Pod[] }>(
      `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(`workflows.argoproj.io/workflow=${wf.metadata.name}`)}`,
    );
    const byStep = new Map<string, Pod>();
    for (const pod of list.items) {
      const nodeName = pod.metadata.annotations?.["workflows.argoproj.io/node-name"] ?? "";
      byStep.set(nodeName.slice(nodeName.lastIndexOf(".") + 1), pod);
    }
    return byStep;
  }

  /** The workflow controller's /metrics text (Argo 3.6+ prefixes template metrics with argo_workflows_). */
  async controllerMetrics(): Promise<string> {
    const pods = await this.kube.get<{ items: { metadata: { name: string } }[] }>(
      `/api/v1/namespaces/argo/pods?labelSelector=${encodeURIComponent("app=workflow-controller")}`,
    );
    const pod = pods.items[0]?.metadata.name;
    if (!pod) throw new Error("no workflow-controller pod in namespace argo");
    return (await this.kube.text(`/api/v1/namespaces/argo/pods/${pod}:9090/proxy/metrics`)) ?? "";
  }

  /** A container's log, or undefined when the pod is gone. */
  async log(pod: string, container = "main"): Promise<string | undefined> {
    return this.kube.text(`/api/v1/namespaces/${NS}/pods/${pod}/log?container=${container}`);
  }

  /** The log of every container of every pod still in the namespace. */
  async allLogs(): Promise<string[]> {
    const list = await this.kube.get<{ items: Pod[] }>(`/api/v1/namespaces/${NS}/pods`);
    const logs: string[] = [];
    for (const pod of list.items) {
      for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
        logs.push((await this.log(pod.metadata.name, c.name).catch(() => undefined)) ?? "");
      }
    }
    return logs;
  }
}

/** The step's closing summary in its container log (Argo's emissary adds lines of its own). */
export function summaryLine(log: string): Record<string, unknown> | undefined {
  return log
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .find((entry) => entry.event === "step.summary");
}

export function param(
  node: WorkflowNode | undefined,
  direction: "inputs" | "outputs",
  name: string,
): string | undefined {
  return node?.[direction]?.parameters?.find((p) => p.name === name)?.value;
}

export const time = (stamp: string | undefined) => (stamp ? Date.parse(stamp) : Number.NaN);

// The executor records Argo task results and the steps record Events with the unit's own
// account: evidence, not state. Every other write is state.
const EVIDENCE = new Set(["events", "workflowtaskresults"]);

/** The unit's state writes (its ServiceAccount's, evidence aside) in the audit log since `mark`. */
export async function stateWrites(audit: AuditLog, mark: number, unit: string, ns = NS) {
  return (await audit.writesSince(mark, { user: `system:serviceaccount:${ns}:reseed-${unit}` })).filter(
    (w) => !EVIDENCE.has(w.resource),
  );
}

/** How many pods the API server created for the workflow since `mark` (its audit log). */
export async function podsCreated(audit: AuditLog, mark: number, wf: Workflow): Promise<number> {
  return (await audit.requestsSince(mark, { namespace: NS })).filter(
    (r) => r.verb === "create" && r.resource === "pods" && r.code === 201 && r.name.startsWith(wf.metadata.name),
  ).length;
}

/** A Secret's data in namespace reseed, decoded; undefined when there is none. */
export async function secretData(kube: Kube, name: string): Promise<Record<string, string> | undefined> {
  const res = await kube.request("GET", `/api/v1/namespaces/${NS}/secrets/${name}`);
  if (res.status === 404) return undefined;
  const data = (JSON.parse(res.body) as { data?: Record<string, string> }).data ?? {};
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
}
