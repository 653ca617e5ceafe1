// make bench, part 2: a secret-sync of 1,000 keys, Key Vault -> Key Vault, with bounded
// concurrency: the time and the API calls of a first run and of a no-op rerun, counted at the
// (fake) Key Vault, against a naive sequential sync. Each figure is one run of a real process
// (the bundled ensure-state step, or test/bench/naive-sync.mjs). The fake adds a fixed delay
// to every answer to stand in for the network round trip to a real vault.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { authorityStepEnv, caBundle, fakeKeyVault, KeyVaultAdmin, workloadIdentity } from "../harness/authorities.js";
import type { FakeKeyVault, RequestRecord } from "../harness/fake-key-vault.js";
import { startKubeServer } from "../harness/kube-server.js";
import { mapLimit } from "../../steps/core/concurrency.js";
import { runStepProcess } from "../harness/steps.js";
import { seedingUnit } from "../harness/units.js";

const KEYS = Number(process.env.RESEED_BENCH_SYNC_KEYS ?? 1000);
const LATENCIES = (process.env.RESEED_BENCH_SYNC_LATENCY_MS ?? "0,10").split(",").map(Number);
const names = Array.from({ length: KEYS }, (_, i) => `key-${String(i).padStart(4, "0")}`);
const naiveScript = fileURLToPath(new URL("./naive-sync.mjs", import.meta.url));

function calls(records: RequestRecord[]): string {
  const n = (f: (r: RequestRecord) => boolean) => records.filter(f).length;
  return `${n((r) => r.method === "GET" && r.status !== 401)} reads, ${n((r) => r.method !== "GET" && r.status < 300)} writes, ${n((r) => r.status === 401)} auth challenges`;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const started = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function runNaive(from: string, to: string, env: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [naiveScript, from, to, String(KEYS)], {
      env: { PATH: process.env.PATH ?? "", ...env },
      stdio: ["ignore", "inherit", "inherit"],
    });
    child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`naive sync exited ${code}`))));
  });
}

const server = await startKubeServer();
try {
  const azure: FakeKeyVault = await fakeKeyVault(server.info);
  const dir = join(server.info.kubeconfigDir, "bench");
  const env = {
    ...(await workloadIdentity(azure, server.info, "bench", "unit", dir)),
    ...authorityStepEnv(await caBundle([azure.caFile], dir)),
  };
  const kubeconfig = await server.kubeconfigFor("bench", "unit");
  const rows: string[] = [];
  for (const latency of LATENCIES) {
    const tag = `l${latency}`;
    const vaults = await Promise.all(["src", "dst", "naive"].map((v) => azure.addVault(`bench-${v}-${tag}`)));
    const [src, dst, naive] = vaults as [(typeof vaults)[0], (typeof vaults)[0], (typeof vaults)[0]];
    for (const v of vaults) v.allow(env.AZURE_CLIENT_ID!, ["get", "set"]);
    const seed = new KeyVaultAdmin(azure, src.url);
    await mapLimit(names, 32, (n, i) => seed.put(n, `bench-value-${i}-${n}-0123456789abcdef`));
    azure.setLatency(latency);
    const unit = seedingUnit(
      "bench-sync",
      {
        kind: "secret-sync",
        with: {
          from: { keyVault: { url: src.url } },
          to: { keyVault: { url: dst.url } },
          keys: names,
          drift: "correct",
        },
      },
      { namespace: "bench" },
    );
    const step = async () => {
      const r = await runStepProcess("ensure-state", unit, { kubeconfig, namespace: "bench", env });
      if (r.code !== 0) throw new Error(`ensure-state exited ${r.code}: ${r.stdout.slice(-2000)}`);
    };
    const measure = async (label: string, fn: () => Promise<void>) => {
      const mark = azure.mark();
      const ms = await timed(fn);
      return { label, ms, calls: calls(azure.requestsSince(mark)) };
    };
    const results = [
      await measure("reseed secret-sync, first run", step),
      await measure("reseed secret-sync, no-op rerun", step),
      await measure("naive sequential sync, first run", () => runNaive(src.url, naive.url, env)),
      await measure("naive sequential sync, rerun", () => runNaive(src.url, naive.url, env)),
    ];
    azure.setLatency(0);
    for (const r of results) rows.push(`| ${latency} ms | ${r.label} | ${(r.ms / 1000).toFixed(2)} s | ${r.calls} |`);
    rows.push(
      `| ${latency} ms | naive / reseed | first run ${(results[2]!.ms / results[0]!.ms).toFixed(1)}x, rerun ${(results[3]!.ms / results[1]!.ms).toFixed(1)}x | |`,
    );
  }
  console.log(
    `\nsecret-sync of ${KEYS} keys, Key Vault -> Key Vault (fake vault, delay added per answer), one process per run\n`,
  );
  console.log("| added delay | run | wall (process start to exit) | API calls at the vault |");
  console.log("|---|---|---|---|");
  for (const r of rows) console.log(r);
} finally {
  await server.stop();
}
