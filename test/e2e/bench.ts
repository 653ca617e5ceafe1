// `make e2e-bench`: what one run of an unchanged unit costs in real Argo, on the cluster
// the e2e suite uses. A measurement, not a test: it prints figures and asserts nothing.
//   - run time: the Workflow's creation to the verify node's finish (median of RUNS runs)
//   - pods created per run, counted in the API server's audit log
import { Argo, NS, param, time } from "./argo.js";
import { e2eEnv, Kube } from "./cluster.js";
import installChart from "./global-setup.js";

const RUNS = Number(process.env.RESEED_BENCH_RUNS ?? 7);
const UNIT = "coder-db-password";

const env = e2eEnv();
const kube = new Kube(env.kubeconfig);
const audit = kube.audit(env.auditLog);
const argo = new Argo(env, kube);

await installChart();
// The first run creates the Secret; the measured runs find it and change nothing.
await argo.finished(argo.submitFrom(UNIT), 300_000);

const seconds: number[] = [];
const pods: number[] = [];
for (let i = 0; i < RUNS; i++) {
  const mark = await audit.mark();
  const wf = await argo.finished(argo.submitFrom(UNIT), 300_000);
  const verify = argo.steps(wf).verify;
  if (wf.status?.phase !== "Succeeded" || param(argo.steps(wf)["ensure-state"], "outputs", "action") !== "unchanged") {
    throw new Error(
      `run ${wf.metadata.name} was ${wf.status?.phase} (${wf.status?.message ?? "no message"}), not an unchanged success`,
    );
  }
  seconds.push((time(verify?.finishedAt) - time(wf.metadata.creationTimestamp)) / 1000);
  const created = await audit.requestsSince(mark, { namespace: NS });
  pods.push(
    created.filter(
      (r) => r.verb === "create" && r.resource === "pods" && r.code === 201 && r.name.startsWith(wf.metadata.name),
    ).length,
  );
}

const sorted = [...seconds].sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)]!;
console.log(`| unit | runs | creation → verify finished, median (min–max) | pods per run |`);
console.log(`|---|---|---|---|`);
console.log(
  `| ${UNIT} (unchanged) | ${RUNS} | ${median.toFixed(0)} s (${sorted[0]!.toFixed(0)}–${sorted.at(-1)!.toFixed(0)} s) | ${[...new Set(pods)].join(", ")} |`,
);
