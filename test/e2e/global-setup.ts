import path from "node:path";
import { examples, parseObjects, root, template } from "../harness/helm.js";
import { NS } from "./argo.js";
import { cli, e2eEnv, type E2eEnv, Kube, waitFor } from "./cluster.js";

export const E2E_VALUES = [examples.local, path.join(root, "test/e2e/values.yaml")];

/** The chart rendered with the local example (`make dev`'s units) and the e2e overlay; extra flags (e.g. --set) go to helm template. */
function renderChart(...flags: string[]): string {
  const r = template(E2E_VALUES, ...flags);
  if (!r.ok) throw new Error(`helm template failed:\n${r.err}`);
  return r.out;
}

/**
 * Applies rendered chart output as Argo CD syncs it: every object first, in the order the
 * chart renders them (one List, which kubectl applies item by item), then the hooks
 * (PostSync), which run after the unit's ServiceAccount and Role exist.
 */
export function applyRendered(env: E2eEnv, namespace: string, rendered: string, unit?: string): void {
  const objects = parseObjects(rendered).filter((o) => !unit || o.metadata.labels?.["reseed.dev/unit"] === unit);
  const isHook = (o: (typeof objects)[number]) => o.metadata.annotations?.["argocd.argoproj.io/hook"] !== undefined;
  for (const items of [objects.filter((o) => !isHook(o)), objects.filter(isHook)]) {
    if (items.length === 0) continue;
    cli(
      env,
      "kubectl",
      ["apply", "--server-side", "--namespace", namespace, "--filename", "-"],
      JSON.stringify({ apiVersion: "v1", kind: "List", items }),
    );
  }
}

/** The chart with the e2e values, applied to namespace reseed as Argo CD syncs it. */
export function applyChart(env: E2eEnv, ...flags: string[]): void {
  applyRendered(env, NS, renderChart(...flags));
}

/**
 * Only the objects of one unit of the chart, applied as applyChart applies them: for a test
 * that runs beside others in namespace reseed, whose units' CronWorkflows those others
 * resume and suspend (the whole chart applied then would fight them over `spec.suspend`).
 */
export function applyChartUnit(env: E2eEnv, unit: string, ...flags: string[]): void {
  applyRendered(env, NS, renderChart(...flags), unit);
}

/**
 * Installs the chart the way a GitOps sync would (render, apply) into a cluster that
 * already runs Argo Workflows: the local node of `make e2e` or a kind cluster.
 */
export default async function setup(): Promise<void> {
  const env = e2eEnv();
  const kube = new Kube(env.kubeconfig);
  await waitFor("the Argo workflow-controller Deployment in namespace argo to be available", 180_000, async () => {
    const res = await kube.request("GET", "/apis/apps/v1/namespaces/argo/deployments/workflow-controller");
    const available =
      res.status === 200 &&
      ((JSON.parse(res.body) as { status?: { availableReplicas?: number } }).status?.availableReplicas ?? 0) > 0;
    return available ? true : undefined;
  });
  // Pod Security `restricted`: every step pod of every e2e run is admitted under it, Argo's
  // init and wait containers too (the executor securityContext of test/cluster/argo-install.sh).
  const labels = { "pod-security.kubernetes.io/enforce": "restricted" };
  await kube.json(
    "POST",
    "/api/v1/namespaces",
    { apiVersion: "v1", kind: "Namespace", metadata: { name: NS, labels } },
    { allowed: [409] },
  );
  await kube.json(
    "PATCH",
    `/api/v1/namespaces/${NS}`,
    { metadata: { labels } },
    {
      contentType: "application/merge-patch+json",
    },
  );
  applyChart(env);
}
