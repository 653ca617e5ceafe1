// `reseed status` reads runs of both run modes (docs/operating.md#run-modes): a pod per step
// (dag), or one pod whose containers are the steps (containerSet), where the outputs sit on
// the pod node as <step>-<name> and the steps after a failed one end in Error. The node
// shapes are those Argo v3.7.18 wrote in `make e2e` (test/e2e/container-set.test.ts).
import { describe, expect, it } from "vitest";
import { unitStatuses, type WorkflowObject } from "../../steps/cli/status.js";

const NOW = Date.parse("2026-12-04T12:00:00Z");
const labels = { "reseed.dev/unit": "db", "reseed.dev/pattern": "reconciler" };
const params = (o: Record<string, string>) => Object.entries(o).map(([name, value]) => ({ name, value }));

type Nodes = NonNullable<NonNullable<WorkflowObject["status"]>["nodes"]>;

function oneRun(name: string, phase: string, startedAt: string, nodes: Nodes): WorkflowObject {
  return {
    metadata: { name, namespace: "reseed", labels },
    status: { phase, startedAt, finishedAt: startedAt, nodes },
  };
}

describe("reseed status on runMode containerSet runs", () => {
  it("names the failed step, its exit code and clause, and the last action from the pod node's outputs", () => {
    const succeeded = oneRun("db-1", "Succeeded", "2026-12-04T11:50:00Z", {
      "db-1": {
        displayName: "db-1",
        type: "Pod",
        phase: "Succeeded",
        outputs: {
          exitCode: "0",
          parameters: params({ "ensure-state-action": "created", "verify-result": "succeeded" }),
        },
      },
      "db-1-a": { displayName: "ensure-state", type: "Container", phase: "Succeeded" },
      "db-1-b": { displayName: "main", type: "Container", phase: "Succeeded" },
    });
    const failed = oneRun("db-2", "Failed", "2026-12-04T11:58:00Z", {
      "db-2": {
        displayName: "db-2",
        type: "Pod",
        phase: "Failed",
        outputs: { parameters: params({ "validate-inputs-exit-code": "11", "validate-inputs-result": "failed" }) },
      },
      "db-2-a": {
        displayName: "validate-inputs",
        type: "Container",
        phase: "Failed",
        message: "validate-inputs: Error (exit code 11): C1 failfast: a required input is missing: region: …",
      },
      "db-2-b": {
        displayName: "wait-deps",
        type: "Container",
        phase: "Error",
        message: 'wait-deps: Error (exit code 64): dependency "validate-inputs" exited with non-zero code: 11',
      },
    });
    const [status] = unitStatuses([], [succeeded, failed], NOW);
    expect(status?.lastRun).toMatchObject({
      name: "db-2",
      result: "Failed",
      step: "validate-inputs",
      exitCode: 11,
      clause: expect.stringContaining("C1") as unknown,
      message: expect.stringContaining("C1 failfast") as unknown,
    });
    expect(status?.lastAction).toBe("created");
  });

  it("takes the exit code from the node message when the step wrote none (killed)", () => {
    const killed = oneRun("db-3", "Failed", "2026-12-04T11:59:00Z", {
      "db-3": { displayName: "db-3", type: "Pod", phase: "Failed", outputs: { parameters: [] } },
      "db-3-a": {
        displayName: "ensure-state",
        type: "Container",
        phase: "Failed",
        message: "ensure-state: Error (exit code 137): ",
      },
    });
    expect(unitStatuses([], [killed], NOW)[0]?.lastRun).toMatchObject({ step: "ensure-state", exitCode: 137 });
  });
});
