import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { UnitStatus } from "../../steps/cli/status.js";
import { canary, describeLeak, findLeaks } from "../conformance/leak-hunt.js";
import {
  Argo,
  isFinished,
  NS,
  param,
  secretData,
  stateWrites,
  STEPS,
  summaryLine,
  time,
  type Workflow,
} from "./argo.js";
import { e2eEnv, Kube, waitFor } from "./cluster.js";
import { applyChartUnit } from "./global-setup.js";

// The chart's CronWorkflows, run by the real Argo controller on a real node. Every unit
// starts suspended (test/e2e/values.yaml); a test resumes the unit it watches and suspends
// it again, so the runs it counts are its own. A schedule of `* * * * *` makes a scheduled
// run start within a minute.
const env = e2eEnv();
const kube = new Kube(env.kubeconfig);
const audit = kube.audit(env.auditLog);
const argo = new Argo(env, kube);

const MINUTE = 60_000;
const TICK = 70_000; // the next `* * * * *` run, plus the controller's reaction
const RUN = 150_000; // one run of four pods on a busy two-core machine
const DEADLINE_S = 75; // defaults.activeDeadlineSeconds in test/e2e/values.yaml
// The leak hunt's canary: characters that encode differently in every scheme it scans for.
const CANARY = canary(40);
// The chart's retention defaults (charts/reseed/values.yaml; test/e2e/values.yaml keeps them).
const RETENTION = {
  podGC: { strategy: "OnWorkflowSuccess", deleteDelayDuration: "600s" },
  ttlStrategy: { secondsAfterSuccess: 3600, secondsAfterFailure: 259200 },
};

/**
 * Makes every pod of the unit's next runs hang before it starts: the CronWorkflow's
 * podSpecPatch names an image no node has, so the first pod waits on its node (pull policy
 * Never here: ErrImageNeverPull; kind: ImagePullBackOff). `false` takes the patch out again.
 * Deadline and concurrency policy stay the chart's.
 */
async function hangRuns(unit: string, hang: boolean): Promise<void> {
  const patch = hang
    ? JSON.stringify({ containers: [{ name: "main", image: "localhost/reseed-e2e-missing:0" }] })
    : null;
  await kube.json(
    "PATCH",
    `/apis/argoproj.io/v1alpha1/namespaces/${NS}/cronworkflows/${unit}`,
    { spec: { workflowSpec: { podSpecPatch: patch } } },
    { contentType: "application/merge-patch+json" },
  );
}

beforeAll(async () => {
  // The first test watches coder-db-password's first run create its Secret and counts the
  // runs kept after it: what earlier files ran of it (container-set.test.ts, which runs
  // first) is cleared, and waited for, so this file starts from an unseeded unit.
  await argo.deleteRuns("coder-db-password");
  await kube.json("DELETE", `/api/v1/namespaces/${NS}/secrets/coder-db`, undefined, { allowed: [404] });
  await kube.json("DELETE", `/api/v1/namespaces/${NS}/secrets/e2e-canary-input`, undefined, { allowed: [404] });
  await kube.json("POST", `/api/v1/namespaces/${NS}/secrets`, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "e2e-canary-input" },
    stringData: { token: CANARY },
  });
});

describe("a P1 reconciler unit in real Argo Workflows", () => {
  let first: Workflow;

  it("runs validate-inputs → wait-deps → ensure-state → verify on its schedule, passing the fingerprint and keeping every node's status, outputs and log", async () => {
    const started = await argo.nextScheduledRun("coder-db-password", TICK);
    expect(started.metadata.labels?.["workflows.argoproj.io/cron-workflow"]).toBe("coder-db-password");
    first = await argo.finished(started.metadata.name, RUN);
    expect(first.status?.phase, first.status?.message).toBe("Succeeded");

    const steps = argo.steps(first);
    expect(Object.keys(steps).sort()).toEqual([...STEPS].sort());
    for (const name of STEPS) {
      const node = steps[name]!;
      expect(node.phase, `${node.displayName}: ${node.message}`).toBe("Succeeded");
      expect(param(node, "outputs", "result")).toBe("succeeded");
      expect(JSON.parse(param(node, "outputs", "summary") ?? "{}")).toMatchObject({ result: "succeeded" });
    }
    for (let i = 1; i < STEPS.length; i++) {
      expect(time(steps[STEPS[i]!]!.startedAt)).toBeGreaterThanOrEqual(time(steps[STEPS[i - 1]!]!.finishedAt));
    }
    const fingerprint = param(steps["validate-inputs"], "outputs", "fingerprint");
    expect(fingerprint).toMatch(/\S/);
    for (const step of ["wait-deps", "ensure-state", "verify"] as const) {
      expect(param(steps[step], "inputs", "fingerprint"), step).toBe(fingerprint);
    }
    expect(param(steps["ensure-state"], "outputs", "action")).toBe("created");

    // A success's pods are collected 10 minutes after it ends (the chart's podGC delay);
    // until then each step's log ends with its summary line.
    const pods = await argo.pods(first);
    for (const step of STEPS) {
      const pod = pods.get(step);
      expect(pod, `the pod of ${step}`).toBeDefined();
      expect(summaryLine((await argo.log(pod!.metadata.name)) ?? ""), step).toMatchObject({
        event: "step.summary",
        result: "succeeded",
      });
    }
    expect((await secretData(kube, "coder-db"))?.password).toHaveLength(32);
  });

  it("reruns on `argo submit --from cronwf/<unit>`, reports `unchanged` and writes nothing (audit log)", async () => {
    const mark = await audit.mark();
    const name = argo.submitFrom("coder-db-password");
    const rerun = await argo.finished(name, RUN);
    expect(rerun.status?.phase, rerun.status?.message).toBe("Succeeded");
    expect(rerun.metadata.labels?.["workflows.argoproj.io/cron-workflow"]).toBe("coder-db-password");
    expect(param(argo.steps(rerun)["ensure-state"], "outputs", "action")).toBe("unchanged");
    expect(await stateWrites(audit, mark, "coder-db-password")).toEqual([]);
    // No Secret written in the namespace by anything that runs there (a unit, Argo): the
    // tests' own writes are left out, as fan-out.test.ts may run beside this file.
    const secretWrites = (await audit.writesSince(mark, { namespace: NS })).filter(
      (w) => w.resource === "secrets" && w.user.startsWith("system:serviceaccount:"),
    );
    expect(secretWrites).toEqual([]);
  });

  it("self-heals: after the Secret is deleted, the next scheduled run creates it again", async () => {
    await kube.json("DELETE", `/api/v1/namespaces/${NS}/secrets/coder-db`);
    const run = await argo.finished((await argo.nextScheduledRun("coder-db-password", TICK)).metadata.name, RUN);
    expect(run.status?.phase, run.status?.message).toBe("Succeeded");
    expect(param(argo.steps(run)["ensure-state"], "outputs", "action")).toBe("created");
    expect((await secretData(kube, "coder-db"))?.password).toHaveLength(32);
  });

  it("keeps the run that said `created` through a manual rerun and a scheduled run (3 successes kept), with its pods and logs past the controller's default GC delay", async () => {
    const kept = (await argo.runs("coder-db-password")).filter((wf) => wf.status?.phase === "Succeeded");
    expect(kept.map((wf) => wf.metadata.name)).toContain(first.metadata.name);
    expect(kept).toHaveLength(3);
    for (const wf of kept) expect(wf.spec).toMatchObject({ ...RETENTION, activeDeadlineSeconds: DEADLINE_S });
    // The controller runs with its default podGCDeleteDelayDuration (5 s: test/cluster/argo-install.sh
    // sets none); the chart's deleteDelayDuration is what keeps a success readable. A minute
    // after the run ended, well past the default, whatever the tests above took.
    const since = Date.now() - time(first.status?.finishedAt);
    if (since <= MINUTE) await new Promise((resolve) => setTimeout(resolve, MINUTE - since + 1000));
    expect(Date.now() - time(first.status?.finishedAt)).toBeGreaterThan(MINUTE);
    const pods = await argo.pods(first);
    expect([...pods.keys()].sort()).toEqual([...STEPS].sort());
    const ensureLog = summaryLine((await argo.log(pods.get("ensure-state")!.metadata.name)) ?? "");
    expect(ensureLog).toMatchObject({ event: "step.summary", result: "succeeded", action: "created" });
  });
});

describe("failfast", () => {
  it("a unit with a missing input fails at validate-inputs (exit 11), says why in its node message and `argo get`, keeps its pod and log, runs nothing after it and writes nothing; five failures are kept", async () => {
    const mark = await audit.mark();
    const names = [1, 2, 3, 4, 5, 6].map(() => argo.submitFrom("e2e-missing-input"));
    const runs = await Promise.all(names.map((name) => argo.finished(name, RUN)));
    for (const run of runs) {
      expect(run.status?.phase).toBe("Failed");
      const steps = argo.steps(run);
      expect(Object.keys(steps)).toEqual(["validate-inputs"]);
      expect(steps["validate-inputs"]!.phase).toBe("Failed");
      expect(steps["validate-inputs"]!.outputs?.exitCode).toBe("11");
      // The step's termination message, which Argo appends to the node message.
      expect(steps["validate-inputs"]!.message).toMatch(
        /^main: Error \(exit code 11\): C1 failfast: a required input is missing: region: /,
      );
    }
    // The newest failure: its pod stays (podGC OnPodSuccess) and its log names the input.
    const last = runs.at(-1)!;
    const pods = await argo.pods(last);
    expect([...pods.keys()]).toEqual(["validate-inputs"]);
    const log = (await argo.log(pods.get("validate-inputs")!.metadata.name)) ?? "";
    const summary = summaryLine(log);
    expect(summary).toMatchObject({ event: "step.summary", exitCode: 11 });
    expect(JSON.stringify(summary)).toContain("region");
    expect(argo.cli("get", last.metadata.name)).toContain("C1 failfast: a required input is missing: region: ");

    expect(await stateWrites(audit, mark, "e2e-missing-input")).toEqual([]);
    expect((await kube.request("GET", `/api/v1/namespaces/${NS}/configmaps/e2e-missing-input-facts`)).status).toBe(404);

    const failures = await waitFor("the history limit to leave five failed runs", MINUTE, async () => {
      const failed = (await argo.runs("e2e-missing-input")).filter((wf) => wf.status?.phase === "Failed");
      return failed.length === 5 ? failed : undefined;
    });
    // The one collected is one of those that finished first (finish times are whole seconds,
    // so several can tie for first).
    const firstDone = [...runs].sort((a, b) => time(a.status?.finishedAt) - time(b.status?.finishedAt))[0]!;
    const kept = failures.map((wf) => wf.metadata.name);
    expect(kept.every((name) => names.includes(name))).toBe(true);
    const tiedFirst = runs
      .filter((wf) => wf.status?.finishedAt === firstDone.status?.finishedAt)
      .map((wf) => wf.metadata.name);
    expect(tiedFirst.filter((name) => !kept.includes(name)).length).toBeGreaterThan(0);
  });
});

describe("a P2 hook unit", () => {
  it("runs once per runId: applying the same runId again starts nothing, a new runId runs once and changes nothing", async () => {
    const hook = await argo.finished("bootstrap-token-2026-11-27", RUN);
    expect(hook.status?.phase, hook.status?.message).toBe("Succeeded");
    expect(param(argo.steps(hook)["ensure-state"], "outputs", "action")).toBe("created");
    const seeded = await secretData(kube, "bootstrap-token");

    applyChartUnit(env, "bootstrap-token");
    const again = await argo.workflow(hook.metadata.name);
    expect(again.metadata.uid).toBe(hook.metadata.uid);
    expect(again.status?.finishedAt).toBe(hook.status?.finishedAt);
    expect((await argo.runs("bootstrap-token")).map((wf) => wf.metadata.name)).toEqual([hook.metadata.name]);

    const mark = await audit.mark();
    applyChartUnit(env, "bootstrap-token", "--set", "units.bootstrap-token.runId=2026-11-28");
    const next = await argo.finished("bootstrap-token-2026-11-28", RUN);
    expect(next.status?.phase, next.status?.message).toBe("Succeeded");
    expect(param(argo.steps(next)["ensure-state"], "outputs", "action")).toBe("unchanged");
    expect(await stateWrites(audit, mark, "bootstrap-token")).toEqual([]);
    expect(await secretData(kube, "bootstrap-token")).toEqual(seeded);
  });
});

describe("a failing run that read a secret", () => {
  let failed: Workflow;

  it("says why on the failed node (exit 12, the dependency) and keeps the pods of all its steps, the succeeded one too", async () => {
    failed = await argo.finished(argo.submitFrom("e2e-canary-fail"), RUN);
    expect(failed.status?.phase).toBe("Failed");
    const steps = argo.steps(failed);
    expect(steps["validate-inputs"]?.phase).toBe("Succeeded");
    expect(steps["wait-deps"]?.outputs?.exitCode).toBe("12");
    expect(steps["wait-deps"]?.message).toMatch(
      /^main: Error \(exit code 12\): C1 failfast: a dependency did not become ready in time: tcp 127\.0\.0\.1:9/,
    );
    // Well past the controller's default GC delay (5 s): a failed run's pods stay as long as the run.
    await new Promise((resolve) =>
      setTimeout(resolve, Math.max(0, time(failed.status?.finishedAt) + 30_000 - Date.now())),
    );
    const pods = await argo.pods(failed);
    expect([...pods.keys()].sort()).toEqual(["validate-inputs", "wait-deps"]);
    expect(summaryLine((await argo.log(pods.get("validate-inputs")!.metadata.name)) ?? "")).toMatchObject({
      result: "succeeded",
    });
    expect(summaryLine((await argo.log(pods.get("wait-deps")!.metadata.name)) ?? "")).toMatchObject({
      result: "failed",
      exitCode: 12,
    });
  });

  it("the leak hunt over everything runs left: no form and no 12-character fragment of any secret in a Workflow (status, node messages, outputs, parameters), an Event or a log", async () => {
    expect(failed, "the previous test ran the failing unit").toBeDefined();
    const run = await argo.finished(argo.submitFrom("e2e-canary"), RUN);
    expect(run.status?.phase, run.status?.message).toBe("Succeeded");
    const secrets: Record<string, string> = { canary: CANARY };
    for (const name of ["e2e-canary-generated", "coder-db", "bootstrap-token"]) {
      for (const [key, value] of Object.entries((await secretData(kube, name)) ?? {}))
        secrets[`Secret ${name} ${key}`] = value;
    }
    expect(Object.keys(secrets).length).toBeGreaterThanOrEqual(4);
    const workflows = await kube.get<{ items: Workflow[] }>(`/apis/argoproj.io/v1alpha1/namespaces/${NS}/workflows`);
    const names = workflows.items.map((wf) => wf.metadata.name);
    expect(names).toEqual(expect.arrayContaining([failed.metadata.name, run.metadata.name]));
    const evidence = [
      ...workflows.items.map((wf) => ({ where: `Workflow ${wf.metadata.name}`, text: JSON.stringify(wf) })),
      { where: "core Events", text: (await kube.text(`/api/v1/namespaces/${NS}/events`)) ?? "" },
      {
        where: "events.k8s.io Events",
        text: (await kube.text(`/apis/events.k8s.io/v1/namespaces/${NS}/events`)) ?? "",
      },
      ...(await argo.allLogs()).map((text, i) => ({ where: `container log ${i}`, text })),
    ];
    expect(
      evidence
        .filter((e) => e.where.startsWith("container log"))
        .map((e) => e.text)
        .join("").length,
    ).toBeGreaterThan(0);
    // The failing run's termination message is in what is scanned.
    expect(JSON.stringify(workflows.items.find((wf) => wf.metadata.name === failed.metadata.name))).toContain(
      "C1 failfast: a dependency did not become ready in time",
    );
    expect(findLeaks(secrets, evidence).map(describeLeak)).toEqual([]);
  });
});

describe("reseed status on live units", () => {
  it("lists every unit with its last run; the failing ones with exit code, clause and node message; exits 3", () => {
    const cliPath = fileURLToPath(new URL("../../dist/reseed.mjs", import.meta.url));
    const r = spawnSync(process.execPath, [cliPath, "status", "--kubeconfig", env.kubeconfig, "-n", NS, "-o", "json"], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(3);
    const units = Object.fromEntries((JSON.parse(r.stdout) as UnitStatus[]).map((u) => [u.unit, u]));
    expect(units["coder-db-password"]).toMatchObject({
      pattern: "reconciler",
      schedule: "* * * * *",
      healthy: true,
      lastAction: "created",
      lastRun: { result: "Succeeded" },
    });
    expect(units["e2e-missing-input"]).toMatchObject({
      healthy: false,
      lastRun: {
        result: "Failed",
        step: "validate-inputs",
        exitCode: 11,
        clause: "C1 failfast: a required input is missing",
        message: expect.stringContaining("region: "),
      },
    });
    expect(units["e2e-canary-fail"]).toMatchObject({
      healthy: false,
      lastRun: { result: "Failed", step: "wait-deps", exitCode: 12 },
    });
    expect(units["bootstrap-token"]).toMatchObject({
      pattern: "hook",
      healthy: true,
      lastRun: { result: "Succeeded" },
    });
  });
});

describe("metrics", () => {
  // Argo 3.6+ exports template metrics with its own prefix: argo_workflows_reseed_unit_….
  const PREFIX = "(?:argo_workflows_)?";
  it("the workflow controller exposes the template metrics of the runs", async () => {
    const metrics = await waitFor("the reseed metrics on the controller", MINUTE, async () => {
      const text = await argo.controllerMetrics();
      return text.includes("reseed_unit_last_success_timestamp_seconds") ? text : undefined;
    });
    const lastSuccess = new RegExp(
      `^${PREFIX}reseed_unit_last_success_timestamp_seconds\\{unit="coder-db-password"\\} (\\S+)$`,
      "m",
    ).exec(metrics);
    expect(lastSuccess, metrics).not.toBeNull();
    expect(Number(lastSuccess![1]) * 1000).toBeGreaterThan(Date.now() - 30 * MINUTE);
    expect(metrics).toMatch(
      new RegExp(`^${PREFIX}reseed_unit_runs_total\\{result="Failed",unit="e2e-missing-input"\\} [1-9]`, "m"),
    );
    expect(metrics).toMatch(
      new RegExp(`^${PREFIX}reseed_unit_runs_total\\{result="Succeeded",unit="coder-db-password"\\} [1-9]`, "m"),
    );
    // Why, for alerts: the failed step and its exit code (the clause).
    expect(metrics).toMatch(
      new RegExp(
        `^${PREFIX}reseed_step_failures_total\\{exit_code="11",step="validate-inputs",unit="e2e-missing-input"\\} [1-9]`,
        "m",
      ),
    );
    expect(metrics).toMatch(
      new RegExp(
        `^${PREFIX}reseed_step_failures_total\\{exit_code="12",step="wait-deps",unit="e2e-canary-fail"\\} [1-9]`,
        "m",
      ),
    );
  });
});

describe("concurrencyPolicy Forbid", () => {
  // A run that hangs: its first pod is on the node but never starts. Argo gives each pod the
  // time left to the workflow's activeDeadlineSeconds, so the kubelet ends it there. (A pod
  // that is never scheduled is different on Argo 3.7: see docs/known-limits.md.)
  let hung: Workflow;
  let known: Set<string>;

  it("starts no second run of a unit while one hangs, skipping the ticks in between", async () => {
    let mostUnfinished = 0;
    await hangRuns("cluster-facts", true);
    try {
      known = new Set((await argo.runs("cluster-facts")).map((wf) => wf.metadata.name));
      argo.resume("cluster-facts");
      const started = await argo.nextRun("cluster-facts", known, TICK);
      // Watch through the next tick, which comes while the run still hangs: still the one run.
      // The watch (and the test's patch) ends before the deadline does: Argo runs a tick that
      // Forbid skipped once the blocking run is over, if that is within startingDeadlineSeconds,
      // and that late run would hang too.
      const until = time(started.metadata.creationTimestamp) + 70_000;
      while (Date.now() < until) {
        const runs = await argo.runs("cluster-facts");
        mostUnfinished = Math.max(mostUnfinished, runs.filter((wf) => !isFinished(wf)).length);
        expect(runs.filter((wf) => !known.has(wf.metadata.name)).map((wf) => wf.metadata.name)).toEqual([
          started.metadata.name,
        ]);
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
      hung = await argo.workflow(started.metadata.name);
      expect(isFinished(hung), "the run still hangs after the tick it blocked").toBe(false);
      expect(mostUnfinished).toBe(1);
    } finally {
      argo.suspend("cluster-facts");
      await hangRuns("cluster-facts", false);
    }
  });

  it("ends the hung run at activeDeadlineSeconds, so the schedule goes on", async () => {
    expect(hung, "the previous test found a hung run").toBeDefined();
    const ended = isFinished(hung) ? hung : await argo.finished(hung.metadata.name, MINUTE);
    expect(ended.status?.phase).toMatch(/Failed|Error/);
    expect(argo.steps(ended)["validate-inputs"]?.message).toMatch(/deadline/i);
    const blockedS = (time(ended.status?.finishedAt) - time(ended.metadata.creationTimestamp)) / 1000;
    expect(blockedS).toBeGreaterThanOrEqual(DEADLINE_S - 1);
    expect(blockedS).toBeLessThanOrEqual(DEADLINE_S + 20);

    argo.resume("cluster-facts");
    try {
      const next = await argo.nextRun("cluster-facts", new Set([...known, hung.metadata.name]), TICK);
      expect(time(next.metadata.creationTimestamp)).toBeGreaterThanOrEqual(time(ended.status?.finishedAt) - 1000);
      const done = await argo.finished(next.metadata.name, RUN);
      expect(done.status?.phase, done.status?.message).toBe("Succeeded");
    } finally {
      argo.suspend("cluster-facts");
    }
  });
});
