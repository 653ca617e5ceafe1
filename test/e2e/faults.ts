import { expect } from "vitest";
import type { AuditLog } from "../harness/audit.js";
import { Argo, NS, param, secretData, stateWrites, type Workflow } from "./argo.js";
import { cli, e2eEnv, type E2eEnv, Kube, waitFor } from "./cluster.js";

// What the two Argo fault files (argo-faults.test.ts, argo-step-faults.test.ts) share: each
// fault is done to a generated-secret unit with two keys (test/e2e/values.yaml), so a test can
// take one away and the next run must write it back while the other keeps its value. Each
// test asserts the matrix's four things (docs/faults.md): (a) no value that existed is
// changed, (b) the failure is on record in the Workflow, (c) the next run converges, (d) its
// rerun writes nothing (audit log).

export const RUN = 150_000; // one run of four pods on a busy two-core machine
export const TICK = 70_000; // the next `* * * * *` run, plus the controller's reaction
// A scheduled tick and three or four runs one after another: more than the config's 300 s
// when the two cores are busy.
export const TEST_TIMEOUT = 600_000;

/** The e2e cluster's clients and the faults of `unit`, which seeds Secret `secret`. */
export function faultsOn(unit: string, secret: string) {
  const env = e2eEnv();
  const kube = new Kube(env.kubeconfig);
  const audit = kube.audit(env.auditLog);
  const argo = new Argo(env, kube);
  return { env, kube, audit, argo, faults: new UnitFaults(env, kube, audit, argo, unit, secret) };
}

export class UnitFaults {
  readonly secretPath: string;

  constructor(
    readonly env: E2eEnv,
    readonly kube: Kube,
    readonly audit: AuditLog,
    readonly argo: Argo,
    /** The unit every fault is done to, and the Secret it seeds. */
    readonly unit: string,
    readonly secret: string,
  ) {
    this.secretPath = `/api/v1/namespaces/${NS}/secrets/${secret}`;
  }

  /** `<nodeCtl> ...args` (test/cluster/cluster.sh on the local node): its output, trimmed. */
  nodeCtl(...args: string[]): string {
    return cli(this.env, this.env.nodeCtl, args).trim();
  }

  /** The ensure-state node's action output, or its exit code and message when it failed. */
  ensureOutcome(wf: Workflow): string {
    const node = this.argo.steps(wf)["ensure-state"];
    if (!node) return "ensure-state did not run";
    return node.phase === "Succeeded"
      ? `${param(node, "outputs", "action")}`
      : `${node.phase} exit ${node.outputs?.exitCode ?? "?"}: ${node.message ?? ""}`;
  }

  async succeeded(name: string): Promise<Workflow> {
    const wf = await this.argo.finished(name, RUN);
    expect(wf.status?.phase, `${name}: ${wf.status?.message}; ensure-state: ${this.ensureOutcome(wf)}`).toBe(
      "Succeeded",
    );
    return wf;
  }

  /** The unit converged: a run succeeds; and idempotent: the run after it writes nothing. */
  async convergesThenWritesNothing(unit = this.unit): Promise<string> {
    const converged = this.ensureOutcome(await this.succeeded(this.argo.submitFrom(unit)));
    const mark = await this.audit.mark();
    const rerun = await this.succeeded(this.argo.submitFrom(unit));
    expect(this.ensureOutcome(rerun)).toBe("unchanged");
    expect(await stateWrites(this.audit, mark, unit)).toEqual([]);
    return converged;
  }

  /** The unit's state writes since `mark`, one line each: "<verb> <resource>/<name> <HTTP code>". */
  async writeLines(mark: number): Promise<string[]> {
    return (await stateWrites(this.audit, mark, this.unit)).map((w) => `${w.verb} ${w.resource}/${w.name} ${w.code}`);
  }

  /** The unit's Secret as a run leaves it, both keys present: what a fault must not change. */
  async seeded(): Promise<Record<string, string>> {
    await this.succeeded(this.argo.submitFrom(this.unit));
    const data = await secretData(this.kube, this.secret);
    expect(data?.password).toHaveLength(32);
    return data!;
  }

  /** After a fault: `apiKey` written back, `password` as it was before, and the rerun writes nothing. */
  async expectKeyBackValueKept(before: Record<string, string>): Promise<void> {
    const after = await secretData(this.kube, this.secret);
    expect(after?.password).toBe(before.password);
    expect(after?.apiKey).toHaveLength(40);
    expect(await this.convergesThenWritesNothing()).toBe("unchanged");
  }

  /** The Secret without `key`: the unit's next run must write it and keep the other key. */
  async takeAwayKey(key: string): Promise<void> {
    await this.kube.json("PATCH", this.secretPath, [{ op: "remove", path: `/data/${key}` }], {
      contentType: "application/json-patch+json",
    });
  }

  /** The name of the pod that runs `step` of the workflow, once the controller has made it. */
  async stepPod(workflow: string, step: string): Promise<string> {
    return waitFor(
      `the ${step} pod of ${workflow}`,
      RUN,
      async () => {
        const wf = await this.argo.workflow(workflow);
        return (await this.argo.pods(wf)).get(step)?.metadata.name;
      },
      200,
    );
  }
}
