import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ExitCode } from "../../steps/core/errors.js";
import { unitPermissions } from "../../steps/runtime/permissions.js";
import { loadUnit } from "../../steps/runtime/unit.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";
import { connectKube } from "../harness/kube.js";
import { Admin } from "../harness/kube-admin.js";
import { allText, runDag, type StepRun } from "../harness/steps.js";
import { casesOf, type ConformanceCase } from "./cases.js";
import { huntLeaks, startHuntServer, type HuntServer } from "./hunt-runner.js";

const registry = await loadKinds(kinds);
import { describeLeak, findLeaks } from "./leak-hunt.js";

// The contract, run against every registered kind on the real API server; a kind cannot opt
// out, and a kind without a case fails here.
const kube = connectKube(inject("kube"));
const admin = new Admin(kube.adminKubeconfig);

// Evidence Events are writes of evidence, not of state; everything else the unit's service
// account writes, and everything written at the kind's own authority, counts.
async function markWrites(c: ConformanceCase): Promise<{ kube: number; authority: number }> {
  return { kube: await kube.auditMark(), authority: (await c.authorityWrites?.mark()) ?? 0 };
}
async function writesSince(
  c: ConformanceCase,
  mark: { kube: number; authority: number },
  user: string,
): Promise<string[]> {
  const k = (await kube.writesSince(mark.kube, { user }))
    .filter((w) => w.resource !== "events")
    .map((w) => `kubernetes ${w.verb} ${w.resource} ${w.namespace ?? ""}/${w.name ?? ""}`);
  return [...k, ...((await c.authorityWrites?.since(mark.authority)) ?? [])];
}

/** The changes the ensure-state step recorded, from its `summary` output (what Argo keeps). */
function recordedChanges(runs: StepRun[]): string[] {
  const ensure = runs.find((r) => r.phase === "ensure-state");
  return ensure ? ((JSON.parse(ensure.outputs.summary ?? "{}") as { changes?: string[] }).changes ?? []) : [];
}

/** The step's own record agrees with the servers: one change per write counted there, or at least none without writes. */
function expectChangesMatchWrites(c: ConformanceCase, changes: string[], writes: string[]) {
  if (c.authorityWrites?.notOnePerChange)
    expect(changes.length > 0, `changes ${JSON.stringify(changes)} vs writes ${JSON.stringify(writes)}`).toBe(
      writes.length > 0,
    );
  else
    expect(changes, `one recorded change per write counted at the servers: ${JSON.stringify(writes)}`).toHaveLength(
      writes.length,
    );
}

// The hostile echo server of the leak hunt, started once for the file.
let huntServer: Promise<HuntServer> | undefined;
const hunt = () => (huntServer ??= startHuntServer(join(inject("kube").kubeconfigDir, "leak-hunt")));
afterAll(async () => {
  await (await huntServer)?.hostile.stop();
});

// One suite per case; a kind with several stores has one case per store, named after it.
// Each kind's cases come from its folder, steps/kinds/<kind>/conformance.ts.
const suites = (
  await Promise.all(
    kinds
      .names()
      .map(async (kindName) =>
        (await casesOf(kindName)).map((c) => ({ label: c?.name ? `${kindName} (${c.name})` : kindName, kindName, c })),
      ),
  )
).flat();

describe.each(suites)("conformance: $label", ({ kindName, c }) => {
  const ns = `conf-${kindName}${c?.name ? `-${c.name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}` : ""}`;
  const sa = "unit";
  const user = `system:serviceaccount:${ns}:${sa}`;
  const canary = `canary-${randomBytes(12).toString("hex")}`;
  let unit: {
    apiVersion: string;
    kind: string;
    metadata: { name: string };
    spec: ReturnType<NonNullable<typeof c>["spec"]> & { inputs: Record<string, unknown> };
  };
  let kubeconfig: string;
  // Every run of the file's tests, for the leak scan; each test also makes the runs it needs.
  const captured: StepRun[] = [];
  const run = async (workflow = `${kindName}-wf`) => {
    const runs = await runDag(unit, {
      kubeconfig,
      namespace: ns,
      workflow: { name: workflow, cronWorkflow: kindName },
      ...(c?.stepEnv ? { env: c.stepEnv(ns) } : {}),
    });
    captured.push(...runs);
    return runs;
  };

  beforeAll(async () => {
    if (!c) return;
    await c.servers?.();
    await admin.namespace(ns);
    await admin.putSecret(ns, "reseed-canary", { value: canary });
    const spec = c.spec(ns);
    unit = {
      apiVersion: "reseed.dev/v1alpha1",
      kind: "SeedingUnit",
      metadata: { name: `conformance-${kindName}` },
      spec: { ...spec, inputs: { ...spec.inputs, canary: { secretKeyRef: { name: "reseed-canary", key: "value" } } } },
    };
    await c.setup(admin, ns);
    kubeconfig = await kube.kubeconfigFor(ns, sa);
    await admin.grant(ns, sa, unitPermissions(loadUnit(unit, registry), ns));
  });

  afterAll(async () => {
    await c?.stopServers?.();
  });

  it("has a conformance case", () => {
    expect(c, `add steps/kinds/${kindName}/conformance.ts, exporting its case as conformance`).toBeDefined();
  });
  if (!c) return;

  it("runs to verified state with only the permissions it declares", async () => {
    const runs = await run();
    expect(runs.map((r) => [r.phase, r.code])).toEqual(runs.map((r) => [r.phase, 0]));
    expect(runs.at(-1)?.phase).toBe("verify");
  });

  // The state a test starts from: the unit's inputs in place and the unit converged.
  const converged = async () => {
    await c.setup(admin, ns);
    await admin.putSecret(ns, "reseed-canary", { value: canary });
    await c.operatorRestores?.(admin, ns);
    const runs = await run();
    expect(runs.map((r) => [r.phase, r.code])).toEqual(runs.map((r) => [r.phase, 0]));
  };
  // A verify-only unit (P3) has no ensure-state step, so no action to report.
  const isVerifyOnly = () => unit.spec.pattern === "operator";
  const ensureActions = (runs: StepRun[]) =>
    runs.filter((r) => r.phase === "ensure-state").map((r) => r.outputs.action);

  it("performs zero writes on a second run, counted at the API server (C2)", async () => {
    await converged();
    const mark = await markWrites(c);
    const runs = await run();
    expect(runs.map((r) => r.code)).toEqual(runs.map(() => 0));
    expect(ensureActions(runs)).toEqual(isVerifyOnly() ? [] : ["unchanged"]);
    expect(await writesSince(c, mark, user)).toEqual([]);
    expect(recordedChanges(runs)).toEqual([]);
  });

  // Fan-out cases only: the target that appeared since the last run is served, and only it.
  const addTarget = c.addTarget;
  if (addTarget) {
    it("serves a target that matches since the last run, writing only to it (fan-out, C3)", async () => {
      const expected = await addTarget(admin, ns);
      const mark = await markWrites(c);
      const runs = await run();
      expect(runs.map((r) => r.code)).toEqual(runs.map(() => 0));
      expect(await writesSince(c, mark, user)).toEqual(expected);
      const again = await markWrites(c);
      await run();
      expect(await writesSince(c, again, user)).toEqual([]);
    });
  }

  it("fails at validate-inputs naming each missing input, before any write (C1)", async () => {
    const removals: Record<string, (a: Admin, n: string) => Promise<void>> = {
      ...c.removeInput,
      canary: (a, n) => a.deleteSecret(n, "reseed-canary"),
    };
    for (const [input, remove] of Object.entries(removals)) {
      await c.deleteState(admin, ns);
      await remove(admin, ns);
      const mark = await markWrites(c);
      const runs = await run();
      expect(runs.map((r) => r.phase)).toEqual(["validate-inputs"]);
      expect(runs[0]!.code).toBe(ExitCode.missingInput);
      expect(runs[0]!.stdout).toContain(`"subject":"${input}"`);
      expect(await writesSince(c, mark, user)).toEqual([]);
      await admin.putSecret(ns, "reseed-canary", { value: canary });
      await c.setup(admin, ns);
      await c.operatorRestores?.(admin, ns);
    }
  });

  // A unit restores its own state; a verify-only unit (P3) fails verify until the operator does.
  it("restores the seeded state after it is deleted (C3)", async () => {
    await converged();
    await c.deleteState(admin, ns);
    const verifyOnly = isVerifyOnly();
    const mark = await markWrites(c);
    const first = await run();
    expect(first.at(-1)).toMatchObject({ phase: "verify", code: verifyOnly ? ExitCode.verifyFailed : 0 });
    expect(ensureActions(first)).toEqual(verifyOnly ? [] : ["created"]);
    expectChangesMatchWrites(c, recordedChanges(first), await writesSince(c, mark, user));
    await c.operatorRestores?.(admin, ns);
    const healed = verifyOnly ? await run() : first;
    expect(healed.map((r) => r.code)).toEqual(healed.map(() => 0));
  });

  it("leaves a Kubernetes Event on the Workflow for every step (C4)", async () => {
    const workflow = `${kindName}-events`;
    await converged();
    const ok = await run(workflow);
    await admin.deleteSecret(ns, "reseed-canary");
    const failed = await run(workflow);
    await admin.putSecret(ns, "reseed-canary", { value: canary });
    expect(failed.map((r) => [r.phase, r.code])).toEqual([["validate-inputs", ExitCode.missingInput]]);
    const events = await admin.events.listNamespacedEvent({ namespace: ns });
    const ours = events.items.filter((e) => e.regarding?.kind === "Workflow" && e.regarding.name === workflow);
    expect(ours.length).toBeGreaterThanOrEqual(ok.length + failed.length);
    expect(ours.some((e) => e.type === "Warning" && e.reason === "MissingInput")).toBe(true);
    expect(ours.every((e) => e.related?.kind === "CronWorkflow" && e.related.name === kindName)).toBe(true);
  });

  // Scans every run the file made so far, and at least runs of its own: converging, unchanged, failing.
  it("never lets a canary or written secret out: logs, outputs and events, in any form or 12-character fragment (C2, C4)", async () => {
    await converged();
    await run();
    await admin.deleteSecret(ns, "reseed-canary");
    await run();
    await admin.putSecret(ns, "reseed-canary", { value: canary });
    const secrets = Object.fromEntries(
      [canary, ...(await c.writtenSecrets(admin, ns))].map((s, i) => [i === 0 ? "canary" : `written secret ${i}`, s]),
    );
    const evidence = [
      { where: "step logs and outputs", text: allText(captured) },
      ...(await admin.eventNotes(ns)).map((text) => ({ where: "Event", text })),
    ];
    expect(captured.length).toBeGreaterThan(4);
    expect(findLeaks(secrets, evidence).map(describeLeak)).toEqual([]);
  });

  // Last: it leaves the unit pointed nowhere real. Endpoints come from the unit itself, so a
  // kind with a network endpoint is hunted without a case of its own; one no step reached fails.
  it(
    "leaks nothing when an endpoint it talks to echoes the request back: the leak hunt (C2, C4)",
    async () => {
      const r = await huntLeaks({
        unit,
        namespace: ns,
        user,
        kubeconfig,
        env: c.stepEnv?.(ns) ?? {},
        admin,
        kube,
        grant: (u) => admin.grant(ns, sa, unitPermissions(loadUnit(u, registry), ns)),
        settingsOf: (u) => loadUnit(u, registry).settings,
        hunt: await hunt(),
        workflowName: `${kindName}-hunt`,
        moreSecrets: () => c.writtenSecrets(admin, ns),
      });
      expect(r.rounds).toBeGreaterThan(0);
      expect(r.unreached, `endpoints of ${r.endpoints.join(", ")} that no step connected to`).toEqual([]);
      expect(r.unscanned, "objects the unit wrote that the hunt cannot read").toEqual([]);
      expect(r.leaks.map(describeLeak)).toEqual([]);
    },
    20 * 60_000,
  );
});
