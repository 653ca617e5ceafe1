import { afterAll, describe, expect, it } from "vitest";
import { NS, secretData, STEPS } from "./argo.js";
import { waitFor } from "./cluster.js";
import { CONVERGED_S, convergence, figures, NORTH_STAR_S } from "./converge.js";
import { faultsOn, TEST_TIMEOUT, TICK } from "./faults.js";

// The Argo faults done to the whole cluster (docs/faults.md): the workflow controller killed,
// the API server restarted, beside a step's container killed. Every other e2e file would
// feel them, so this one runs with nothing beside it (test/e2e/vitest.config.ts); the faults
// done to one run are in argo-step-faults.test.ts.
const { kube, audit, argo, faults } = faultsOn("e2e-faults", "e2e-faults-generated");
const { unit: UNIT, secret: SECRET } = faults;
const CHAOS_UNITS = [UNIT, "e2e-chaos", "e2e-chaos-facts"];

interface ControllerPod {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}
const CONTROLLER_PODS = `/api/v1/namespaces/argo/pods?labelSelector=${encodeURIComponent("app=workflow-controller")}`;

/** Deletes the workflow controller's pod at once (no grace: a crash), and waits for its replacement to be ready. */
async function killController(): Promise<void> {
  const old = await kube.get<{ items: ControllerPod[] }>(CONTROLLER_PODS);
  for (const pod of old.items) {
    await kube.json("DELETE", `/api/v1/namespaces/argo/pods/${pod.metadata.name}?gracePeriodSeconds=0`, undefined, {
      allowed: [404],
    });
  }
  const gone = new Set(old.items.map((p) => p.metadata.name));
  await waitFor("a new workflow-controller pod to be ready", 180_000, async () => {
    const now = await kube.get<{ items: ControllerPod[] }>(CONTROLLER_PODS);
    return now.items.some(
      (p) => !gone.has(p.metadata.name) && p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"),
    )
      ? true
      : undefined;
  });
}

afterAll(() => {
  for (const unit of CHAOS_UNITS) argo.suspend(unit);
});

describe("the workflow controller killed while a run is in flight", () => {
  it(
    "its replacement finishes the run: every step ran once, one write, the value kept, and the rerun writes nothing",
    async () => {
      const before = await faults.seeded();
      await faults.takeAwayKey("apiKey");
      const mark = await audit.mark();
      const name = argo.submitFrom(UNIT);
      await faults.stepPod(name, "wait-deps");
      await killController();

      const wf = await faults.succeeded(name);
      expect(Object.values(wf.status?.nodes ?? {}).filter((n) => n.type === "Pod")).toHaveLength(STEPS.length);
      expect(faults.ensureOutcome(wf)).toBe("updated");
      expect(await faults.writeLines(mark)).toEqual([`update secrets/${SECRET} 200`]);
      await faults.expectKeyBackValueKept(before);
    },
    TEST_TIMEOUT,
  );
});

describe("chaos on the north star", () => {
  it("with its units scheduled every minute: a random step's container killed, the API server restarted, the controller killed; afterwards every unit is verified and no seeded value changed", async () => {
    await Promise.all(CHAOS_UNITS.map((unit) => faults.succeeded(argo.submitFrom(unit))));
    const seeded = async () => ({
      faults: await secretData(kube, SECRET),
      chaos: await secretData(kube, "e2e-chaos-generated"),
      facts: (await kube.get<{ data?: Record<string, string> }>(`/api/v1/namespaces/${NS}/configmaps/e2e-chaos-facts`))
        .data,
    });
    const before = await seeded();
    const known = new Set((await Promise.all(CHAOS_UNITS.map((u) => argo.runs(u)))).flat().map((w) => w.metadata.name));

    for (const unit of CHAOS_UNITS) argo.resume(unit);
    const victim = CHAOS_UNITS[Math.floor(Math.random() * CHAOS_UNITS.length)]!;
    const step = STEPS[Math.floor(Math.random() * STEPS.length)]!;
    const run = await argo.nextRun(victim, known, TICK);
    faults.nodeCtl("kill-container", NS, await faults.stepPod(run.metadata.name, step), "main");
    const restartStarted = Date.now();
    faults.nodeCtl("restart-apiserver");
    const apiDownS = (Date.now() - restartStarted) / 1000;
    await new Promise((resolve) => setTimeout(resolve, 30_000)); // runs start and fail against the new server
    await killController();
    const calm = Date.now();

    const result = await convergence(kube, NS, CHAOS_UNITS, calm);
    const { line, slowest } = figures(result);
    console.log(
      `chaos: killed ${step} of ${run.metadata.name}; API server restarted (${apiDownS.toFixed(0)} s until ready); ` +
        `controller killed. Every unit verified after the chaos: ${line}; slowest ${slowest.toFixed(0)} s ` +
        `(goal one interval + 60 s = ${NORTH_STAR_S} s: ${slowest <= NORTH_STAR_S ? "met" : "missed"})`,
    );
    expect(slowest, line).toBeLessThanOrEqual(CONVERGED_S);
    for (const unit of CHAOS_UNITS) argo.suspend(unit);
    expect(await seeded()).toEqual(before);
    expect(await Promise.all(CHAOS_UNITS.map((u) => faults.convergesThenWritesNothing(u)))).toEqual(
      CHAOS_UNITS.map(() => "unchanged"),
    );
  }, 1_200_000);
});
