import { describe, expect, it } from "vitest";
import { NS, secretData, STEPS } from "./argo.js";
import { faultsOn, RUN, TEST_TIMEOUT, TICK } from "./faults.js";

// The Argo faults done to one run (docs/faults.md): a second run of the unit at once, a
// step's container SIGKILLed. They touch nothing but their own unit, so this file runs beside
// the others (test/e2e/vitest.config.ts); the faults done to the whole cluster (the controller
// killed, the API server restarted) are in argo-faults.test.ts. The namespace enforces Pod
// Security `restricted` (global-setup.ts) for every run here.
const { kube, audit, argo, faults } = faultsOn("e2e-step-faults", "e2e-step-faults-generated");
const { unit: UNIT, secret: SECRET } = faults;

describe("Pod Security restricted", () => {
  it(
    "the e2e namespace enforces it: a pod that is not restricted is refused, and every pod of a run is admitted",
    async () => {
      const ns = await kube.get<{ metadata: { labels?: Record<string, string> } }>(`/api/v1/namespaces/${NS}`);
      expect(ns.metadata.labels?.["pod-security.kubernetes.io/enforce"]).toBe("restricted");
      const refused = await kube.request("POST", `/api/v1/namespaces/${NS}/pods?dryRun=All`, {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name: "e2e-not-restricted" },
        spec: { containers: [{ name: "main", image: "registry.k8s.io/pause:3.10" }] },
      });
      expect(refused.status, refused.body).toBe(403);
      expect((JSON.parse(refused.body) as { message: string }).message).toContain('violates PodSecurity "restricted');

      await kube.json("DELETE", faults.secretPath, undefined, { allowed: [404] });
      const wf = await faults.succeeded(argo.submitFrom(UNIT));
      expect(Object.keys(argo.steps(wf)).sort()).toEqual([...STEPS].sort());
      expect(faults.ensureOutcome(wf)).toBe("created");
    },
    TEST_TIMEOUT,
  );
});

describe("two runs of one unit at once", () => {
  it(
    "a manual `argo submit --from` during a scheduled run (Forbid does not stop it): one create wins, the other run says `unchanged` or names the 409; one value stays",
    async () => {
      await kube.json("DELETE", faults.secretPath, undefined, { allowed: [404] });
      const mark = await audit.mark();
      const scheduled = await argo.nextScheduledRun(UNIT, TICK);
      const manual = argo.submitFrom(UNIT);
      const runs = await Promise.all([argo.finished(scheduled.metadata.name, RUN), argo.finished(manual, RUN)]);
      const outcomes = runs.map((wf) => faults.ensureOutcome(wf));
      console.log(`two runs at once: scheduled ${outcomes[0]}; manual ${outcomes[1]}`);

      // Exactly one write lands: the winner's create. The loser read the winner's Secret
      // (unchanged), or read it absent and lost the create (HTTP 409, exit 13): never a second value.
      const writes = await faults.writeLines(mark);
      expect(outcomes.filter((o) => o === "created")).toHaveLength(1);
      const loser = outcomes.find((o) => o !== "created")!;
      expect(loser).toMatch(/^unchanged$|^Failed exit 13: .*(409|already exists)/);
      expect(writes).toEqual([
        `create secrets/${SECRET} 201`,
        ...(loser === "unchanged" ? [] : [`create secrets/${SECRET} 409`]),
      ]);
      const value = await secretData(kube, SECRET);
      expect(value?.password).toHaveLength(32);

      expect(await faults.convergesThenWritesNothing()).toBe("unchanged");
      expect(await secretData(kube, SECRET)).toEqual(value);
    },
    TEST_TIMEOUT,
  );
});

describe("a step's container SIGKILLed in the middle of ensure-state", () => {
  it(
    "the run fails with the kill on record (exit 137, nothing after it ran), the generated value is kept, and the next scheduled run converges",
    async () => {
      const before = await faults.seeded();
      await faults.takeAwayKey("apiKey");
      const name = argo.submitFrom(UNIT);
      const killed = faults.nodeCtl("kill-container", NS, await faults.stepPod(name, "ensure-state"), "main");
      expect(killed).toMatch(/\S/);

      const wf = await argo.finished(name, RUN);
      expect(wf.status?.phase).toBe("Failed");
      const steps = argo.steps(wf);
      expect(steps["ensure-state"]?.phase).toMatch(/^(Failed|Error)$/);
      expect(`${steps["ensure-state"]?.outputs?.exitCode} ${steps["ensure-state"]?.message}`).toContain("137");
      expect(steps.verify?.phase).not.toBe("Succeeded");
      expect((await secretData(kube, SECRET))?.password).toBe(before.password);

      const next = await faults.succeeded((await argo.nextScheduledRun(UNIT, TICK)).metadata.name);
      const outcome = faults.ensureOutcome(next); // `updated`, or `unchanged` when the kill came after the write
      console.log(`SIGKILL in ensure-state: the next scheduled run ${outcome}`);
      expect(outcome).toMatch(/^(updated|unchanged)$/);
      await faults.expectKeyBackValueKept(before);
    },
    TEST_TIMEOUT,
  );
});
