import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { Argo, NS, param, type Workflow } from "./argo.js";
import { e2eEnv, Kube } from "./cluster.js";

// Fan-out in real Argo Workflows: the chart's e2e-fan-out unit (test/e2e/values.yaml) runs
// as its own ServiceAccount with the ClusterRole the chart renders, and a namespace created
// between two scheduled runs gets its Secret on the next one (C3), with exactly one write.
const env = e2eEnv();
const kube = new Kube(env.kubeconfig);
const audit = kube.audit(env.auditLog);
const argo = new Argo(env, kube);
const UNIT = "e2e-fan-out";
const TICK = 70_000;
const RUN = 150_000;
const TOKEN = `e2e-fan-${randomBytes(12).toString("hex")}`;
const user = `system:serviceaccount:${NS}:reseed-${UNIT}`;

async function namespace(name: string): Promise<void> {
  await kube.json(
    "POST",
    "/api/v1/namespaces",
    { apiVersion: "v1", kind: "Namespace", metadata: { name, labels: { "reseed.dev/e2e-fan-out": "yes" } } },
    { allowed: [409] },
  );
}

async function pulled(ns: string): Promise<string | undefined> {
  const res = await kube.request("GET", `/api/v1/namespaces/${ns}/secrets/e2e-fan-pull`);
  if (res.status === 404) return undefined;
  const data = (JSON.parse(res.body) as { data?: Record<string, string> }).data ?? {};
  return data.token === undefined ? undefined : Buffer.from(data.token, "base64").toString("utf8");
}

/** Resumes the unit until its next scheduled run exists, suspends it again, and waits for the run to finish. */
async function nextTick(): Promise<Workflow> {
  const known = new Set((await argo.runs(UNIT)).map((wf) => wf.metadata.name));
  argo.resume(UNIT);
  let started: Workflow;
  try {
    started = await argo.nextRun(UNIT, known, TICK);
  } finally {
    argo.suspend(UNIT);
  }
  return argo.finished(started.metadata.name, RUN);
}

beforeAll(async () => {
  await kube.json("DELETE", `/api/v1/namespaces/${NS}/secrets/e2e-fan-source`, undefined, { allowed: [404] });
  await kube.json("POST", `/api/v1/namespaces/${NS}/secrets`, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "e2e-fan-source" },
    stringData: { token: TOKEN },
  });
  await namespace("e2e-fan-ws-1");
});

describe("secret-sync fan-out in real Argo Workflows", () => {
  it("a namespace created between two ticks gets its Secret on the next tick, and only it is written", async () => {
    const first = await nextTick();
    expect(first.status?.phase, first.status?.message).toBe("Succeeded");
    expect(await pulled("e2e-fan-ws-1")).toBe(TOKEN);

    await namespace("e2e-fan-ws-2");
    expect(await pulled("e2e-fan-ws-2")).toBeUndefined();
    const mark = await audit.mark();
    const second = await nextTick();
    expect(second.status?.phase, second.status?.message).toBe("Succeeded");
    expect(await pulled("e2e-fan-ws-2")).toBe(TOKEN);
    const ensure = argo.steps(second)["ensure-state"];
    expect(param(ensure, "outputs", "action")).toBe("created");
    expect([
      param(ensure, "outputs", "targets"),
      param(ensure, "outputs", "created"),
      param(ensure, "outputs", "unchanged"),
    ]).toEqual(["2", "1", "1"]);
    const writes = (await audit.writesSince(mark, { user })).filter(
      (w) => w.resource !== "events" && w.resource !== "workflowtaskresults",
    );
    expect(writes.map((w) => `${w.verb} ${w.resource} ${w.namespace}/${w.name}`)).toEqual([
      "create secrets e2e-fan-ws-2/e2e-fan-pull",
    ]);
  });
});
