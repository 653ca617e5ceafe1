// runMode containerSet (docs/operating.md#run-modes): a run is one pod whose containers are
// the steps, in order. The chart is applied again with `--set runMode=containerSet` (an Argo
// CD sync of that change) and put back afterwards; the units and their state stay the same.
// Checked here, against the DAG's evidence (argo.test.ts): a node per step with its status,
// exit code and log, every step's outputs on the run, the fingerprint passed between steps,
// nothing run after a failed step, nothing written by an unchanged run. What the mode costs
// and saves: `make e2e-bench` (docs/figures.md#in-real-argo).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Argo,
  NS,
  param,
  podsCreated,
  secretData,
  stateWrites,
  STEPS,
  summaryLine,
  time,
  type Workflow,
} from "./argo.js";
import { e2eEnv, Kube, waitFor } from "./cluster.js";
import { applyChart } from "./global-setup.js";

const env = e2eEnv();
const kube = new Kube(env.kubeconfig);
const audit = kube.audit(env.auditLog);
const argo = new Argo(env, kube);
const RUN = 150_000;

/** The run's one pod node: the containerSet, which carries every step's outputs. */
function podNode(wf: Workflow) {
  const pods = Object.values(wf.status?.nodes ?? {}).filter((n) => n.type === "Pod");
  expect(pods).toHaveLength(1);
  return pods[0]!;
}

/** reseed_step_failures_total of e2e-missing-input's step with the exit code; 0 before the first. */
function failures(metrics: string, step: string, exitCode: string): number {
  const line = new RegExp(
    `^(?:argo_workflows_)?reseed_step_failures_total\\{exit_code="${exitCode}",step="${step}",unit="e2e-missing-input"\\} (\\S+)$`,
    "m",
  ).exec(metrics);
  return line ? Number(line[1]) : 0;
}

beforeAll(async () => {
  applyChart(env, "--set", "runMode=containerSet");
  const cron = await kube.get<{ spec: { workflowSpec: { templates: { name: string; containerSet?: unknown }[] } } }>(
    `/apis/argoproj.io/v1alpha1/namespaces/${NS}/cronworkflows/coder-db-password`,
  );
  expect(cron.spec.workflowSpec.templates.map((t) => [t.name, t.containerSet !== undefined])).toEqual([
    ["reconcile", true],
    ["verify-only", true],
  ]);
});

afterAll(() => applyChart(env));

describe("runMode containerSet", () => {
  it("runs an unchanged unit as one pod: a node per step in order, each with its log, every step's outputs on the run, no write", async () => {
    // The first run may find the Secret missing (another file deleted it); the measured one must not.
    const warm = await argo.finished(argo.submitFrom("coder-db-password"), RUN);
    expect(warm.status?.phase, warm.status?.message).toBe("Succeeded");
    const before = (await secretData(kube, "coder-db"))?.password;
    expect(before).toHaveLength(32);

    const mark = await audit.mark();
    const wf = await argo.finished(argo.submitFrom("coder-db-password"), RUN);
    expect(wf.status?.phase, wf.status?.message).toBe("Succeeded");
    expect(await podsCreated(audit, mark, wf)).toBe(1);

    const nodes = argo.containers(wf);
    expect(Object.keys(nodes).sort()).toEqual([...STEPS, "main"].sort());
    for (const step of STEPS) expect(nodes[step]!.phase, `${step}: ${nodes[step]!.message}`).toBe("Succeeded");
    for (let i = 1; i < STEPS.length; i++) {
      expect(time(nodes[STEPS[i]!]!.startedAt)).toBeGreaterThanOrEqual(time(nodes[STEPS[i - 1]!]!.startedAt));
    }

    const pod = podNode(wf);
    const out = (name: string) => param(pod, "outputs", name);
    for (const step of STEPS) {
      expect(out(`${step}-result`), step).toBe("succeeded");
      expect(out(`${step}-exit-code`), step).toBe("0");
      expect(JSON.parse(out(`${step}-summary`) ?? "{}")).toMatchObject({ phase: step, result: "succeeded" });
    }
    expect(out("validate-inputs-fingerprint")).toMatch(/^\S+$/);
    expect(out("ensure-state-action")).toBe("unchanged");

    const [podObject] = [...(await argo.pods(wf)).values()];
    expect(podObject, "the run's pod (kept for the podGC delay)").toBeDefined();
    for (const step of STEPS) {
      const log = (await argo.log(podObject!.metadata.name, step)) ?? "";
      expect(summaryLine(log), step).toMatchObject({ event: "step.summary", result: "succeeded" });
    }

    expect(await stateWrites(audit, mark, "coder-db-password")).toEqual([]);
    expect((await secretData(kube, "coder-db"))?.password).toBe(before);
  });

  it("failfast in one pod: validate-inputs exits 11 and says why on its node and in the failure metric; no later step runs; nothing is written", async () => {
    const before = await argo.controllerMetrics();
    const mark = await audit.mark();
    const wf = await argo.finished(argo.submitFrom("e2e-missing-input"), RUN);
    expect(wf.status?.phase).toBe("Failed");
    expect(await podsCreated(audit, mark, wf)).toBe(1);

    const nodes = argo.containers(wf);
    expect(nodes["validate-inputs"]!.phase).toBe("Failed");
    expect(nodes["validate-inputs"]!.message).toMatch(
      /^validate-inputs: Error \(exit code 11\): C1 failfast: a required input is missing: region: /,
    );
    const pod = podNode(wf);
    expect(param(pod, "outputs", "validate-inputs-result")).toBe("failed");
    expect(param(pod, "outputs", "validate-inputs-exit-code")).toBe("11");

    // The later steps never started their program: no summary in their logs, no result.
    const [podObject] = [...(await argo.pods(wf)).values()];
    for (const step of ["wait-deps", "ensure-state", "verify"] as const) {
      expect(nodes[step]!.phase, `${step}: ${nodes[step]!.message}`).not.toBe("Succeeded");
      expect(param(pod, "outputs", `${step}-result`), step).toBe("none");
      const log = (await argo.log(podObject!.metadata.name, step)) ?? "";
      expect(summaryLine(log), step).toBeUndefined();
    }
    expect(await stateWrites(audit, mark, "e2e-missing-input")).toEqual([]);
    expect((await kube.request("GET", `/api/v1/namespaces/${NS}/configmaps/e2e-missing-input-facts`)).status).toBe(404);

    // The same series as in dag mode: one more failure of validate-inputs with exit 11, none of the steps that did not run.
    const after = await waitFor("the failure in the controller's metrics", 60_000, async () => {
      const text = await argo.controllerMetrics();
      return failures(text, "validate-inputs", "11") > failures(before, "validate-inputs", "11") ? text : undefined;
    });
    expect(failures(after, "validate-inputs", "11")).toBe(failures(before, "validate-inputs", "11") + 1);
    expect(after).not.toMatch(
      /reseed_step_failures_total\{[^}]*step="(?:wait-deps|ensure-state|verify)",unit="e2e-missing-input"/,
    );
  });
});
