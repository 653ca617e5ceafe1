// `reseed status` against the real kube-apiserver with Argo's CRDs (full schemas): the
// CronWorkflows and Workflows are written as Argo leaves them (status included: the
// Workflow CRD has no status subresource), read with a service account that may only list them.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { UNHEALTHY, type UnitStatus } from "../../steps/cli/status.js";
import { emitEvent } from "../../steps/runtime/evidence.js";
import { connectKube as connectAs } from "../../steps/core/kube.js";
import { createLogger } from "../../steps/core/log.js";
import { Redactor } from "../../steps/core/redact.js";
import { connectKube } from "../harness/kube.js";
import { Admin } from "../harness/kube-admin.js";

const kube = connectKube(inject("kube"));
const admin = new Admin(kube.adminKubeconfig);
const NS = "reseed-status";
const cli = fileURLToPath(new URL("../../dist/reseed.mjs", import.meta.url));
const MIN = 60_000;
const iso = (msAgo: number) => new Date(Date.now() - msAgo).toISOString().replace(/\.\d+Z$/, "Z");

const labels = (unit: string, pattern = "reconciler") => ({ "reseed.dev/unit": unit, "reseed.dev/pattern": pattern });
const workflowSpec = {
  entrypoint: "reconcile",
  templates: [{ name: "reconcile", container: { image: "reseed-validate-inputs" } }],
};

async function cron(unit: string, schedule: string, suspend = false) {
  await admin.custom.createNamespacedCustomObject({
    group: "argoproj.io",
    version: "v1alpha1",
    plural: "cronworkflows",
    namespace: NS,
    body: {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "CronWorkflow",
      metadata: { name: unit, labels: labels(unit) },
      spec: { schedules: [schedule], timezone: "UTC", suspend, workflowSpec },
    },
  });
}

type Step = { name: string; phase: string; exitCode?: string; message?: string; action?: string };

async function run(
  unit: string,
  name: string,
  phase: string,
  startedAgo: number,
  steps: Step[],
  pattern = "reconciler",
) {
  const nodes = Object.fromEntries(
    steps.map((s, i) => [
      `${name}-${i}`,
      {
        id: `${name}-${i}`,
        name: `${name}.${s.name}`,
        displayName: s.name,
        type: "Pod",
        phase: s.phase,
        ...(s.message ? { message: s.message } : {}),
        outputs: {
          ...(s.exitCode ? { exitCode: s.exitCode } : {}),
          parameters: s.action ? [{ name: "action", value: s.action }] : [],
        },
      },
    ]),
  );
  await admin.custom.createNamespacedCustomObject({
    group: "argoproj.io",
    version: "v1alpha1",
    plural: "workflows",
    namespace: NS,
    body: {
      apiVersion: "argoproj.io/v1alpha1",
      kind: "Workflow",
      metadata: { name, labels: { ...labels(unit, pattern), "workflows.argoproj.io/cron-workflow": unit } },
      spec: workflowSpec,
      status: {
        phase,
        startedAt: iso(startedAgo),
        ...(phase === "Running" ? {} : { finishedAt: iso(startedAgo - 30_000) }),
        nodes,
      },
    },
  });
}

const ok = (action: string): Step[] => [
  { name: "validate-inputs", phase: "Succeeded" },
  { name: "wait-deps", phase: "Succeeded" },
  { name: "ensure-state", phase: "Succeeded", action },
  { name: "verify", phase: "Succeeded" },
];

function status(...args: string[]) {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run 'make build'`);
  return spawnSync(process.execPath, [cli, "status", "--kubeconfig", reader, ...args], { encoding: "utf8" });
}

let reader: string;

beforeAll(async () => {
  await admin.namespace(NS);
  reader = await kube.kubeconfigFor(NS, "status-reader");
  // What `reseed status` needs, and nothing more: list the two kinds.
  await admin.grant(NS, "status-reader", [
    { namespace: NS, apiGroups: ["argoproj.io"], resources: ["cronworkflows", "workflows"], verbs: ["list"] },
  ]);

  await cron("db-password", "*/10 * * * *");
  await run("db-password", "db-password-1", "Succeeded", 25 * MIN, ok("created"));
  await run("db-password", "db-password-2", "Succeeded", 5 * MIN, ok("unchanged"));

  await cron("missing-input", "* * * * *");
  await run("missing-input", "missing-input-1", "Succeeded", 40 * MIN, ok("created"));
  await run("missing-input", "missing-input-2", "Failed", 2 * MIN, [
    {
      name: "validate-inputs",
      phase: "Failed",
      exitCode: "11",
      message:
        "main: Error (exit code 11): C1 failfast: a required input is missing: region: ConfigMap reseed/infra not found",
    },
  ]);

  // Succeeded last, but two hours ago on a 10-minute schedule: the schedule stopped working.
  await cron("stale", "*/10 * * * *");
  await run("stale", "stale-1", "Succeeded", 120 * MIN, ok("unchanged"));

  await cron("paused", "*/10 * * * *", true);
  await run("paused", "paused-1", "Succeeded", 600 * MIN, ok("unchanged"));
});

describe("reseed status", () => {
  it("-o json: per unit the pattern, schedule, last run, its age and result, exit code and clause, last action, next run; exit 3 when one is unhealthy", async () => {
    const r = status("-n", NS, "-o", "json");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(UNHEALTHY);
    const units = Object.fromEntries((JSON.parse(r.stdout) as UnitStatus[]).map((u) => [u.unit, u]));
    expect(Object.keys(units)).toEqual(["db-password", "missing-input", "paused", "stale"]);

    const db = units["db-password"]!;
    expect(db).toMatchObject({
      namespace: NS,
      pattern: "reconciler",
      schedule: "*/10 * * * *",
      healthy: true,
      lastAction: "unchanged",
      lastRun: { name: "db-password-2", result: "Succeeded" },
    });
    expect(db.lastRun!.ageSeconds).toBeGreaterThanOrEqual(5 * 60 - 5);
    expect(db.lastRun!.ageSeconds).toBeLessThan(6 * 60);
    expect(db.lastRun!.exitCode).toBeUndefined();
    const next = Date.parse(db.nextRun!);
    expect(new Date(next).getUTCMinutes() % 10).toBe(0);
    expect(next - Date.now()).toBeGreaterThan(0);
    expect(next - Date.now()).toBeLessThanOrEqual(10 * MIN);

    expect(units["missing-input"]).toMatchObject({
      healthy: false,
      // Failed last, and on a one-minute schedule its last success (40 minutes ago) is stale too.
      problem: expect.stringMatching(/^last run missing-input-2 failed; no success within 3 intervals \(last /),
      lastAction: "created",
      lastRun: {
        name: "missing-input-2",
        result: "Failed",
        step: "validate-inputs",
        exitCode: 11,
        clause: "C1 failfast: a required input is missing",
        message: expect.stringContaining("region: ConfigMap reseed/infra not found"),
      },
    });
    expect(units.stale).toMatchObject({
      healthy: false,
      problem: expect.stringMatching(/^no success within 3 intervals \(last /),
    });
    expect(units.paused).toMatchObject({ healthy: true, suspended: true });
    expect(units.paused!.nextRun).toBeUndefined();
  });

  it("--intervals moves the staleness bound; a healthy namespace exits 0 with a table", async () => {
    const wide = status("-n", NS, "-o", "json", "--intervals", "20");
    expect((JSON.parse(wide.stdout) as UnitStatus[]).find((u) => u.unit === "stale")?.healthy).toBe(true);

    const table = status("-n", NS);
    expect(table.status).toBe(UNHEALTHY);
    const lines = table.stdout.split("\n");
    expect(lines[0]).toMatch(/^UNIT\s+PATTERN\s+SCHEDULE\s+LAST RUN\s+AGE\s+RESULT\s+EXIT\s+CLAUSE\s+ACTION\s+NEXT$/);
    expect(lines.find((l) => l.startsWith("missing-input "))).toMatch(
      /missing-input-2\s+\d+[sm]\s+Failed\s+11\s+C1 failfast\s+created/,
    );
    expect(table.stdout).toMatch(
      /\nmissing-input: last run missing-input-2 failed; .*\n {2}validate-inputs: main: Error \(exit code 11\): C1 failfast/,
    );

    const healthy = "reseed-status-ok";
    await admin.namespace(healthy);
    await admin.grant(NS, "status-reader", [
      { namespace: healthy, apiGroups: ["argoproj.io"], resources: ["cronworkflows", "workflows"], verbs: ["list"] },
    ]);
    const r = status("-n", healthy);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("the Events commands docs/operating.md gives", () => {
  it("kubectl get events.events.k8s.io --field-selector reportingController=reseed.dev/step[,regarding.name=…|,reason=…] finds the step's Event; core events know no such fields", async () => {
    const redactor = new Redactor();
    const log = createLogger({ redactor, phase: "validate-inputs", sink: { write: () => {} } });
    await emitEvent(
      connectAs(kube.adminKubeconfig),
      { namespace: NS, workflowName: "missing-input-2", cronWorkflowName: "missing-input" },
      {
        phase: "validate-inputs",
        unit: "missing-input",
        ok: false,
        reason: "MissingInput",
        note: "validate-inputs: 1 required input missing",
      },
      redactor,
      log,
    );
    const kubectl = (selector: string, resource = "events.events.k8s.io") =>
      spawnSync(
        "kubectl",
        [
          "--kubeconfig",
          kube.adminKubeconfig,
          "get",
          resource,
          "-n",
          NS,
          "--field-selector",
          selector,
          "-o",
          "jsonpath={.items[*].reason}",
        ],
        { encoding: "utf8" },
      );
    for (const selector of [
      "reportingController=reseed.dev/step",
      "reportingController=reseed.dev/step,regarding.name=missing-input-2",
      "reportingController=reseed.dev/step,reason=MissingInput",
    ]) {
      const r = kubectl(selector);
      expect(r.stderr, selector).toBe("");
      expect(r.stdout, selector).toBe("MissingInput");
    }
    expect(kubectl("reportingController=reseed.dev/step,regarding.name=another-run").stdout).toBe("");
    // What the README used to say: core events have no regarding.* or reportingController fields.
    expect(kubectl("regarding.name=missing-input-2", "events").stderr).toContain(
      "field label not supported: regarding.name",
    );
  });
});
