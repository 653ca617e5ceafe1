// make bench: cold start and peak RSS of each bundled step program, median of RUNS runs,
// against a real local kube-apiserver, each as a ratio to bare Node (`node -e 0`) measured
// in the same run, on the same loaded or idle machine: the ratios are what compares across
// runs and machines (the goal: start ≤ 2.5×, peak RSS ≤ 1.6× bare). Figures, not
// assertions: they go into docs/figures.md.
//
// Two tables. An unchanged generated-secret unit through all four steps (ensure-state and
// verify do their real reads). Then every kind, one unit each from the chart's production
// example: validate-inputs, the step that needs nothing but the API server, so each loads
// exactly its kind's code, resolves its inputs (Secrets and ConfigMaps made here) and exits
// 0. The other steps of the other kinds wait for or talk to their services (Coder, Keycloak,
// Postgres, Azure, Vault), which this bench does not run.
import { spawn } from "node:child_process";
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from "node:fs/promises";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { loadFilesOrThrow } from "../../steps/cli/load.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";
import { startKubeServer } from "../harness/kube-server.js";
import { Admin } from "../harness/kube-admin.js";
import { runDag, runStepProcess, type StepName } from "../harness/steps.js";
import { seedingUnit } from "../harness/units.js";

const registry = await loadKinds(kinds);

const RUNS = Number(process.env.RESEED_BENCH_RUNS ?? 7);
const hook = fileURLToPath(new URL("./rss-hook.mjs", import.meta.url));
const examples = fileURLToPath(new URL("../../charts/reseed/examples/values-prod.yaml", import.meta.url));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Sample {
  ms: number;
  mib: number;
}
interface Figure {
  ms: number;
  min: number;
  max: number;
  mib: number;
}
const figure = (s: Sample[]): Figure => ({
  ms: median(s.map((x) => x.ms)),
  min: Math.min(...s.map((x) => x.ms)),
  max: Math.max(...s.map((x) => x.ms)),
  mib: median(s.map((x) => x.mib)),
});

const dir = await mkdtemp(path.join(tmpdir(), "reseed-bench-"));
let sampleNo = 0;

/** One process, timed from spawn to exit, its peak RSS written at exit by the --import hook. */
async function sample(run: (env: Record<string, string>) => Promise<number>): Promise<Sample> {
  const rssFile = path.join(dir, String(sampleNo++));
  const started = process.hrtime.bigint();
  const code = await run({ NODE_OPTIONS: `--import=${hook}`, RESEED_BENCH_RSS_FILE: rssFile });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (code !== 0) throw new Error(`exited ${code}`);
  return { ms, mib: Number(await readFile(rssFile, "utf8")) / 1024 };
}

const bare = () =>
  sample(
    (env) =>
      new Promise((resolve) =>
        spawn(process.execPath, ["-e", "0"], { env: { PATH: process.env.PATH ?? "", ...env }, stdio: "ignore" }).on(
          "close",
          (c) => resolve(c ?? -1),
        ),
      ),
  );

const server = await startKubeServer();
try {
  const ns = "bench";
  const admin = new Admin(server.adminKubeconfig);
  await admin.namespace(ns);
  const opts = { kubeconfig: server.adminKubeconfig, namespace: ns };
  const step = (phase: StepName, unit: unknown) => async (env: Record<string, string>) => {
    const r = await runStepProcess(phase, unit, { ...opts, env: { ...env, ...kindEnv } });
    if (r.code !== 0) process.stderr.write(`${phase} of ${JSON.stringify(unit).slice(0, 200)}:\n${r.stdout}\n`);
    return r.code;
  };

  const dagUnit = seedingUnit("bench", {
    kind: "generated-secret",
    with: { secret: { name: "bench" }, keys: [{ name: "password" }] },
  });
  const first = await runDag(dagUnit, opts);
  if (first.some((r) => r.code !== 0))
    throw new Error(`seeding the bench unit failed: ${first.map((r) => r.stdout).join("\n")}`);

  // One unit per kind from the production example, in the bench namespace, without its
  // dependencies (they name a CNPG Cluster), every input it reads from the cluster made here
  // (each a value of its own: a non-secret input equal to a secret one is refused) and the one
  // it fetches over HTTP given as a literal. The workload-identity variables
  // stand in for what Azure's webhook injects; nothing here reaches Azure or Vault.
  const tokenFile = path.join(dir, "token");
  const kindEnv = {
    AZURE_CLIENT_ID: "bench",
    AZURE_TENANT_ID: "bench",
    AZURE_FEDERATED_TOKEN_FILE: tokenFile,
  };
  await writeFile(tokenFile, "bench");
  const perKind = new Map<string, unknown>();
  const secrets = new Map<string, Record<string, string>>();
  const configMaps = new Map<string, Record<string, string>>();
  const put = (objects: Map<string, Record<string, string>>, { name, key }: { name: string; key: string }) =>
    objects.set(name, { ...objects.get(name), [key]: `value-of-${name}-${key}` });
  for (const { unit } of await loadFilesOrThrow([examples], registry, ns)) {
    if (perKind.has(unit.spec.ensure.kind)) continue;
    const inputs: Record<string, unknown> = {};
    for (const [name, ref] of Object.entries(unit.spec.inputs)) {
      if ("secretKeyRef" in ref) put(secrets, ref.secretKeyRef);
      if ("configMapKeyRef" in ref) put(configMaps, ref.configMapKeyRef);
      inputs[name] = "httpJson" in ref ? { value: "https://bench.example" } : ref;
    }
    perKind.set(unit.spec.ensure.kind, {
      ...unit,
      spec: { ...unit.spec, namespace: ns, dependencies: [], inputs },
    });
  }

  for (const [name, data] of secrets) await admin.putSecret(ns, name, data);
  for (const [name, data] of configMaps) await admin.putConfigMap(ns, name, data);

  // Rounds interleave the programs, so a burst of load from the other job hits all of them
  // alike rather than one program's runs.
  const programs: [string, () => Promise<Sample>][] = [["bare", bare]];
  for (const phase of ["validate-inputs", "wait-deps", "ensure-state", "verify"] as const)
    programs.push([`dag ${phase}`, () => sample(step(phase, dagUnit))]);
  for (const [kind, unit] of [...perKind].sort(([a], [b]) => a.localeCompare(b)))
    programs.push([`${kind} validate-inputs`, () => sample(step("validate-inputs", unit))]);
  const samples = new Map<string, Sample[]>(programs.map(([name]) => [name, []]));
  const load: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    load.push(loadavg()[0]!);
    for (const [name, run] of programs) samples.get(name)!.push(await run());
  }
  const base = figure(samples.get("bare")!);
  const row = (label: string, f: Figure) =>
    `| ${label} | ${f.ms.toFixed(0)} ms (${f.min.toFixed(0)}–${f.max.toFixed(0)}) | ` +
    `**${(f.ms / base.ms).toFixed(2)}×** | ` +
    `${f.mib.toFixed(1)} MiB | **${(f.mib / base.mib).toFixed(2)}×** |`;
  const header = "| | median wall (range) | ÷ bare | median peak RSS | ÷ bare |\n|---|---|---|---|---|";

  // What a step can load: its entry bundle, and the chunks of every kind and what they share.
  const dist = fileURLToPath(new URL("../../dist/", import.meta.url));
  const files = ["verify.bundle.mjs", ...(await readdir(path.join(dist, "chunks"))).map((f) => `chunks/${f}`)];
  const sizes = await Promise.all(files.filter((f) => f.endsWith(".mjs")).map((f) => stat(path.join(dist, f))));
  const bundle = sizes.reduce((sum, s) => sum + s.size, 0);
  console.log(
    `\nStep cold start and peak RSS, ${RUNS} rounds (Node ${process.versions.node}, verify's bundle and chunks ` +
      `${(bundle / 1024 / 1024).toFixed(2)} MiB, 1-min load average ${Math.min(...load).toFixed(2)}–` +
      `${Math.max(...load).toFixed(2)} on ${availableParallelism()} CPUs)\n`,
  );
  console.log(`${header}\n${row("bare `node -e 0`", base)}`);
  let dagTotal = 0;
  for (const phase of ["validate-inputs", "wait-deps", "ensure-state", "verify"]) {
    const f = figure(samples.get(`dag ${phase}`)!);
    dagTotal += f.ms;
    console.log(row(`generated-secret ${phase} (unchanged)`, f));
  }
  console.log(`\nFour steps in sequence (sum of medians): ${dagTotal.toFixed(0)} ms\n\nEvery kind:\n\n${header}`);
  for (const [kind] of [...perKind].sort(([a], [b]) => a.localeCompare(b)))
    console.log(row(`${kind} validate-inputs`, figure(samples.get(`${kind} validate-inputs`)!)));
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
