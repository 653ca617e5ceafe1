// `make e2e-bench`: what one run of an unchanged unit costs in real Argo, on the cluster
// the e2e suite uses, in each run mode (docs/operating.md#run-modes). A measurement, not a
// test: it prints figures and asserts nothing about them.
//   - run time: the Workflow's creation to its finish (median of RUNS runs per mode)
//   - the pod work inside it: creation to the exit of verify's container (pod status)
//   - pods created per run, counted in the API server's audit log
// The modes alternate run by run (the chart applied again with the other runMode before
// each), so a change in the machine's load falls on both alike. Then the same with the
// controller's DEFAULT_REQUEUE_TIME at 2 s (the suite's own, 1 s, is put back after): Argo processes a workflow at most once per that
// interval (10 s by default), so a run waits for it after each pod it finishes.
import { Argo, NS, param, podsCreated, time, type Workflow } from "./argo.js";
import { cli, e2eEnv, Kube } from "./cluster.js";
import installChart, { applyChart } from "./global-setup.js";

const RUNS = Number(process.env.RESEED_BENCH_RUNS ?? 7);
const UNIT = "coder-db-password";
const MODES = ["dag", "containerSet"] as const;
type Mode = (typeof MODES)[number];

const env = e2eEnv();
const kube = new Kube(env.kubeconfig);
const audit = kube.audit(env.auditLog);
const argo = new Argo(env, kube);

interface PodStatus {
  metadata: { annotations?: Record<string, string> };
  status: { containerStatuses?: { name: string; state: { terminated?: { finishedAt: string } } }[] };
}

/** ensure-state's action: on its node (dag) or on the run's one pod node (containerSet). */
function action(wf: Workflow, mode: Mode): string | undefined {
  if (mode === "dag") return param(argo.steps(wf)["ensure-state"], "outputs", "action");
  const pod = Object.values(wf.status?.nodes ?? {}).find((n) => n.type === "Pod");
  return param(pod, "outputs", "ensure-state-action");
}

/** When verify's container exited: `main` of the verify pod (dag), `verify` of the one pod (containerSet). */
async function verifyExited(wf: Workflow, mode: Mode): Promise<number> {
  const pods = await kube.get<{ items: PodStatus[] }>(
    `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(`workflows.argoproj.io/workflow=${wf.metadata.name}`)}`,
  );
  const pod =
    mode === "dag"
      ? pods.items.find((p) => p.metadata.annotations?.["workflows.argoproj.io/node-name"]?.endsWith(".verify"))
      : pods.items[0];
  const name = mode === "dag" ? "main" : "verify";
  return time(pod?.status.containerStatuses?.find((c) => c.name === name)?.state.terminated?.finishedAt);
}

interface Sample {
  finished: number;
  verified: number;
  pods: number;
}

async function measure(mode: Mode): Promise<Sample> {
  applyChart(env, "--set", `runMode=${mode}`);
  const mark = await audit.mark();
  const wf = await argo.finished(argo.submitFrom(UNIT), 300_000);
  if (wf.status?.phase !== "Succeeded" || action(wf, mode) !== "unchanged") {
    throw new Error(
      `${mode} run ${wf.metadata.name} was ${wf.status?.phase} (${wf.status?.message ?? "no message"}), not an unchanged success`,
    );
  }
  const created = time(wf.metadata.creationTimestamp);
  return {
    finished: (time(wf.status?.finishedAt) - created) / 1000,
    verified: ((await verifyExited(wf, mode)) - created) / 1000,
    pods: await podsCreated(audit, mark, wf),
  };
}

/** The controller's DEFAULT_REQUEUE_TIME as installed (test/cluster/argo-install.sh sets one for the suite). */
function requeueTime(): string | undefined {
  const value = cli(env, "kubectl", [
    "-n",
    "argo",
    "get",
    "deployment/workflow-controller",
    "-o",
    `jsonpath={.spec.template.spec.containers[0].env[?(@.name=="DEFAULT_REQUEUE_TIME")].value}`,
  ]).trim();
  return value || undefined;
}

/** undefined: Argo's own default (10 s), what an install that does not set it runs with. */
function setRequeueTime(value: string | undefined): void {
  cli(env, "kubectl", [
    "-n",
    "argo",
    "set",
    "env",
    "deployment/workflow-controller",
    value ? `DEFAULT_REQUEUE_TIME=${value}` : "DEFAULT_REQUEUE_TIME-",
  ]);
  cli(env, "kubectl", ["-n", "argo", "rollout", "status", "deployment/workflow-controller", "--timeout=180s"]);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const spread = (xs: number[]) =>
  `${median(xs).toFixed(1)} s (${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)} s)`;

await installChart();
// The first run creates the Secret; the measured runs find it and change nothing.
await argo.finished(argo.submitFrom(UNIT), 300_000);

const rows: string[] = [];
const installed = requeueTime();
try {
  for (const requeue of [undefined, "2s"]) {
    setRequeueTime(requeue);
    const samples: Record<Mode, Sample[]> = { dag: [], containerSet: [] };
    for (let i = 0; i < RUNS; i++) for (const mode of MODES) samples[mode].push(await measure(mode));
    for (const mode of MODES) {
      const s = samples[mode];
      rows.push(
        `| ${mode} | ${requeue ?? "10s (default)"} | ${RUNS} | ${spread(s.map((x) => x.finished))} | ${spread(s.map((x) => x.verified))} | ${[...new Set(s.map((x) => x.pods))].join(", ")} |`,
      );
    }
    const ratio = median(samples.containerSet.map((x) => x.finished)) / median(samples.dag.map((x) => x.finished));
    rows.push(`| containerSet/dag | ${requeue ?? "10s (default)"} | | ${ratio.toFixed(2)} | | |`);
  }
} finally {
  applyChart(env);
  setRequeueTime(installed);
}

console.log(`unchanged ${UNIT}, median (min–max) of ${RUNS} runs per row:`);
console.log(
  `| runMode | controller DEFAULT_REQUEUE_TIME | runs | creation → Workflow finished | creation → verify's container exited | pods per run |`,
);
console.log(`|---|---|---|---|---|---|`);
for (const row of rows) console.log(row);
