import { type Workflow, type WorkflowNode, time } from "./argo.js";
import { type Kube, waitFor } from "./cluster.js";

// The north star's measure, shared by the fresh installs (fresh-install.test.ts) and the
// Argo CD install (argo-cd.test.ts): every scheduled unit verified within one interval + 60 s.
export const INTERVAL_S = 60; // defaults.schedule "* * * * *" in test/e2e/fresh-install.yaml
export const NORTH_STAR_S = INTERVAL_S + 60;
// What a test asserts is convergence, not speed (speed is reported against NORTH_STAR_S,
// never asserted: a loaded two-core machine would fail a good build). The bound is three
// intervals past the goal, far below the 20 minutes a fresh install took when its
// CronWorkflows waited for a schedule they had already missed.
export const CONVERGED_S = NORTH_STAR_S + 3 * INTERVAL_S;

/** An empty namespace, with the Deployment the P3 unit verifies already Available (the operator's part, not reseed's). */
export async function emptyNamespace(kube: Kube, ns: string): Promise<void> {
  if ((await kube.request("GET", `/api/v1/namespaces/${ns}`)).status !== 404) {
    await kube.json("DELETE", `/api/v1/namespaces/${ns}`, undefined, { allowed: [404] });
    await waitFor(`namespace ${ns} left by an earlier run to be deleted`, 120_000, async () =>
      (await kube.request("GET", `/api/v1/namespaces/${ns}`)).status === 404 ? true : undefined,
    );
  }
  await kube.json("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  await kube.json("POST", `/apis/apps/v1/namespaces/${ns}/deployments`, {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "e2e-operand" },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: "e2e-operand" } },
      template: {
        metadata: { labels: { app: "e2e-operand" } },
        spec: { containers: [{ name: "main", image: "registry.k8s.io/pause:3.10" }] },
      },
    },
  });
  await waitFor(`Deployment ${ns}/e2e-operand to be Available`, 60_000, async () => {
    const d = await kube.get<{ status?: { conditions?: { type: string; status: string }[] } }>(
      `/apis/apps/v1/namespaces/${ns}/deployments/e2e-operand`,
    );
    return d.status?.conditions?.some((c) => c.type === "Available" && c.status === "True") ? true : undefined;
  });
}

export async function workflows(kube: Kube, ns: string, selector: string): Promise<Workflow[]> {
  const list = await kube.get<{ items: Workflow[] }>(
    `/apis/argoproj.io/v1alpha1/namespaces/${ns}/workflows?labelSelector=${encodeURIComponent(selector)}`,
  );
  return list.items;
}

const verifyNode = (wf: Workflow): WorkflowNode | undefined =>
  Object.values(wf.status?.nodes ?? {}).find((n) => n.type === "Pod" && n.displayName === "verify");

/**
 * Waits until every CronWorkflow named in `units` has a run whose verify step succeeded after
 * `since`, or until `patienceS` seconds after it (by default the north-star window plus the
 * second Argo's timestamps round to, by default CONVERGED_S: a late convergence is still measured).
 * Returns, per unit, the seconds from `since` to that verify's finish, or what it saw instead.
 */
export async function convergence(
  kube: Kube,
  ns: string,
  units: string[],
  since: number,
  patienceS = CONVERGED_S,
): Promise<Map<string, number | string>> {
  const seen = new Map<string, number | string>();
  const deadline = since + patienceS * 1000;
  for (;;) {
    for (const unit of units) {
      if (typeof seen.get(unit) === "number") continue;
      const runs = await workflows(kube, ns, `workflows.argoproj.io/cron-workflow=${unit}`);
      // Argo's timestamps are whole seconds: a verify in the second of `since` counts as after it.
      const verified = runs
        .map(verifyNode)
        .filter((n) => n?.phase === "Succeeded")
        .map((n) => time(n!.finishedAt))
        .filter((t) => t >= Math.floor(since / 1000) * 1000);
      if (verified.length > 0) {
        seen.set(unit, (Math.min(...verified) - since) / 1000);
      } else {
        const phases = runs.map(
          (wf) =>
            `${wf.metadata.name} ${wf.status?.phase ?? "new"}${wf.status?.message ? ` (${wf.status.message})` : ""}`,
        );
        seen.set(unit, runs.length === 0 ? "no run started" : `no verified run: ${phases.join(", ")}`);
      }
    }
    if ([...seen.values()].every((v) => typeof v === "number") || Date.now() > deadline) return seen;
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/** One line of figures, "<unit> <s> s; …", and the slowest unit's seconds (Infinity if one did not converge). */
export function figures(result: Map<string, number | string>): { line: string; slowest: number } {
  const line = [...result].map(([unit, v]) => `${unit} ${typeof v === "number" ? `${v.toFixed(0)} s` : v}`).join("; ");
  const slowest = Math.max(...[...result.values()].map((v) => (typeof v === "number" ? v : Number.POSITIVE_INFINITY)));
  return { line, slowest };
}
