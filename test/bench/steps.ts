// make bench: cold start and peak RSS of each bundled step program, median of RUNS runs,
// on an unchanged unit against a real local kube-apiserver (so ensure-state and verify do
// their real reads). Figures, not assertions: they go into docs/figures.md.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startKubeServer } from "../harness/kube-server.js";
import { Admin } from "../harness/kube-admin.js";
import { runDag, runStepProcess, type StepName } from "../harness/steps.js";
import { seedingUnit } from "../harness/units.js";

const RUNS = Number(process.env.RESEED_BENCH_RUNS ?? 7);
const hook = fileURLToPath(new URL("./rss-hook.mjs", import.meta.url));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const server = await startKubeServer();
try {
  const ns = "bench";
  const admin = new Admin(server.adminKubeconfig);
  await admin.namespace(ns);
  const unit = seedingUnit("bench", {
    kind: "generated-secret",
    with: { secret: { name: "bench" }, keys: [{ name: "password" }] },
  });
  const opts = { kubeconfig: server.adminKubeconfig, namespace: ns };
  const first = await runDag(unit, opts);
  if (first.some((r) => r.code !== 0))
    throw new Error(`seeding the bench unit failed: ${first.map((r) => r.stdout).join("\n")}`);

  const dir = await mkdtemp(path.join(tmpdir(), "reseed-bench-"));
  const rows: string[] = [];
  const phases: StepName[] = ["validate-inputs", "wait-deps", "ensure-state", "verify"];
  let dagTotal = 0;
  for (const phase of phases) {
    const times: number[] = [];
    const rss: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const rssFile = path.join(dir, `${phase}-${i}`);
      const started = process.hrtime.bigint();
      const r = await runStepProcess(phase, unit, {
        ...opts,
        env: { NODE_OPTIONS: `--import=${hook}`, RESEED_BENCH_RSS_FILE: rssFile },
      });
      times.push(Number(process.hrtime.bigint() - started) / 1e6);
      if (r.code !== 0) throw new Error(`${phase} exited ${r.code}: ${r.stdout}`);
      rss.push(Number(await readFile(rssFile, "utf8")) / 1024);
    }
    dagTotal += median(times);
    rows.push(
      `| ${phase} | ${median(times).toFixed(0)} ms | ${Math.min(...times).toFixed(0)}–${Math.max(...times).toFixed(0)} ms | ${median(rss).toFixed(1)} MiB |`,
    );
  }
  await rm(dir, { recursive: true, force: true });
  const bundle =
    (await readFile(fileURLToPath(new URL("../../dist/verify.bundle.mjs", import.meta.url)))).length / 1024 / 1024;
  console.log(
    `\nStep programs, unchanged generated-secret unit, ${RUNS} runs each (Node ${process.versions.node}, bundle ${bundle.toFixed(1)} MiB)\n`,
  );
  console.log("| step | median wall (start to exit) | range | median peak RSS |");
  console.log("|---|---|---|---|");
  for (const r of rows) console.log(r);
  console.log(`\nFour steps in sequence (sum of medians): ${dagTotal.toFixed(0)} ms`);
} finally {
  await server.stop();
}
