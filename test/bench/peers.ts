// make bench-peers: reseed's secret-sync (OpenBao -> Kubernetes Secret) side by side with a peer,
// External Secrets Operator (an ExternalSecret from a Vault SecretStore), doing the same job in
// the same run against the same real servers: the harness's kube-apiserver (writes counted in
// its audit log) and the OpenBao dev server (requests counted in its audit log). Both read the
// same Vault secret of KEYS keys into one Kubernetes Secret; each is told apart by its own
// Kubernetes identity and its own Vault policy.
//
// reseed runs as its CronWorkflow would: the built step programs (dist/), the four-step DAG
// once per tick of a schedule loop. ESO runs as its controller does, one long-lived process,
// out of cluster with a kubeconfig (no webhook, no cert-controller: they only validate and
// convert objects). Figures, not assertions: they go into docs/figures.md.
import { execFileSync } from "node:child_process";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { configureKubernetesAuth, projectedToken } from "../harness/authorities.js";
import { installCrds } from "../harness/crds.js";
import { Admin } from "../harness/kube-admin.js";
import { adminClient } from "../harness/kube-http.js";
import { startKubeServer } from "../harness/kube-server.js";
import { OpenBaoAdmin, OpenBaoAudit, startOpenBao } from "../harness/openbao.js";
import { freePorts, ServerProcess, startWatchdog } from "../harness/processes.js";
import { runDag } from "../harness/steps.js";
import { seedingUnit, unitKubeconfig } from "../harness/units.js";

// One minute is the shortest CronWorkflow schedule; the chart's default is ten.
const INTERVAL_S = Number(process.env.RESEED_BENCH_PEERS_INTERVAL_S ?? 60);
const WINDOW_S = Number(process.env.RESEED_BENCH_PEERS_WINDOW_S ?? 600);
// The peer comparison's issue asks for 1,000 keys, Vault -> one Kubernetes Secret.
const KEYS = Number(process.env.RESEED_BENCH_PEERS_KEYS ?? 1000);
const POLL_MS = 100;
const READY_TIMEOUT_MS = 120_000;

const RESEED_NS = "peers-reseed";
const ESO_NS = "peers-eso";
const ESO_SYSTEM = { namespace: "eso-system", name: "external-secrets" };
const VAULT_PATH = "peers/app";
const SECRET = "app";
const keyNames = Array.from({ length: KEYS }, (_, i) => `key-${String(i).padStart(4, "0")}`);
// Distinct values, so a key written under the wrong name or left stale shows.
const firstValues = Object.fromEntries(keyNames.map((k) => [k, `first-value-${k}`]));
const changedKey = keyNames[0]!;
const changedValue = `changed-value-${changedKey}`;
const cpuHook = fileURLToPath(new URL("./cpu-hook.mjs", import.meta.url));
const ticksPerSecond = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim());

function required(name: string, hint: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: ${hint}. Run this through \`make bench-peers\`, which sets it`);
  return value;
}

if (!(INTERVAL_S > 0 && WINDOW_S >= INTERVAL_S)) {
  throw new Error(
    `RESEED_BENCH_PEERS_INTERVAL_S=${INTERVAL_S} and RESEED_BENCH_PEERS_WINDOW_S=${WINDOW_S}: ` +
      "the window must hold at least one tick (a window of 600 s and a 60 s interval are the defaults)",
  );
}
if (!(Number.isInteger(KEYS) && KEYS >= 1)) {
  throw new Error(`RESEED_BENCH_PEERS_KEYS=${KEYS}: give a whole number of keys, at least 1 (1000 is the default)`);
}
const esoBinary = required("RESEED_ESO", "it names the External Secrets Operator binary (`make eso` builds it)");
// The file is named by version and build key (test/servers/external-secrets.mk).
const esoVersion = /^external-secrets-(v[^-]+)-/.exec(basename(esoBinary))?.[1] ?? basename(esoBinary);
const esoCrds = required("RESEED_ESO_CRDS", "it names the directory of ESO's CRDs (`make eso` puts them there)");

/** CPU seconds a running process has used (all its threads), from /proc. */
async function processCpuS(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name, which is in parentheses and may hold spaces: utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (from: number, to: number) => (to - from) / 1000;

/** Polls until the Secret holds every key of `expected` with its value; returns when it was first seen so. */
async function secretHolds(
  admin: Admin,
  ns: string,
  expected: Record<string, string>,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const wanted = Object.entries(expected);
  for (;;) {
    const data = (await admin.readSecret(ns, SECRET)) ?? {};
    const equal = wanted.filter(([k, v]) => data[k] === v).length;
    if (equal === wanted.length) return Date.now();
    if (Date.now() > deadline)
      throw new Error(
        `Secret ${ns}/${SECRET} did not hold the Vault values within ${timeoutMs / 1000} s ` +
          `(${equal} of ${wanted.length} keys equal at the last look): ` +
          "see the step output above (reseed) or the controller log (ESO)",
      );
    await sleep(POLL_MS);
  }
}

/** ESO's CRDs, as the JSON files installCrds applies (the module ships YAML). */
async function esoCrdJson(into: string): Promise<string> {
  await mkdir(into, { recursive: true });
  const files = (await readdir(esoCrds)).filter((f) => f.endsWith(".yaml"));
  if (files.length === 0) throw new Error(`no CRDs (*.yaml) in ${esoCrds} (RESEED_ESO_CRDS): run \`make eso\``);
  for (const f of files) {
    await writeFile(
      join(into, f.replace(/\.yaml$/, ".json")),
      JSON.stringify(parse(await readFile(join(esoCrds, f), "utf8"))),
    );
  }
  return into;
}

const kube = await startKubeServer();
const bao = await startOpenBao().catch(async (err: unknown) => {
  await kube.stop();
  throw err;
});
let eso: ServerProcess | undefined;
let esoWatchdog: { disarm(): void } | undefined;
try {
  const admin = new Admin(kube.adminKubeconfig);
  const client = adminClient(kube.info);
  const vault = new OpenBaoAdmin(bao.info);
  const vaultAudit = new OpenBaoAudit(bao.info.auditLog);
  const files = join(kube.info.kubeconfigDir, "peers");

  // Vault: one secret, one kubernetes-auth role and read-only policy per client.
  await configureKubernetesAuth(bao.info, kube.info);
  await vault.kvPut("secret", VAULT_PATH, firstValues);
  for (const [who, sa] of [
    ["peers-reseed", { namespace: RESEED_NS, name: "unit" }],
    ["peers-eso", { namespace: ESO_NS, name: "eso-vault" }],
  ] as const) {
    await vault.policy(who, `path "secret/data/${VAULT_PATH}" { capabilities = ["read"] }`);
    await vault.kubernetesRole(who, sa, [who]);
  }

  // reseed: the unit, its ServiceAccount granted what the unit declares, and the token file the
  // kubelet would project into the step pod (made once here; in a cluster, pod overhead).
  const unit = seedingUnit("peers", {
    kind: "secret-sync",
    with: {
      from: {
        vault: {
          address: bao.info.address,
          path: VAULT_PATH,
          auth: { kubernetes: { role: "peers-reseed", tokenFile: join(files, "reseed.token") } },
        },
      },
      to: { kubernetesSecret: { name: SECRET } },
      keys: keyNames,
      drift: "correct",
    },
  });
  const reseedKubeconfig = await unitKubeconfig(kube, admin, RESEED_NS, unit);
  await projectedToken(kube.info, RESEED_NS, "unit", { file: join(files, "reseed.token") });

  // ESO: its CRDs, its controller identity (cluster-admin: its RBAC is not what is measured),
  // the ServiceAccount its SecretStore logs in to Vault as, and the controller process.
  await installCrds(client, await esoCrdJson(join(files, "eso-crds")));
  const esoKubeconfig = await kube.kubeconfigFor(ESO_SYSTEM.namespace, ESO_SYSTEM.name);
  await client.json("POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name: "peers-external-secrets" },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cluster-admin" },
    subjects: [{ kind: "ServiceAccount", ...ESO_SYSTEM }],
  });
  await admin.namespace(ESO_NS);
  await client.json("POST", `/api/v1/namespaces/${ESO_NS}/serviceaccounts`, {
    apiVersion: "v1",
    kind: "ServiceAccount",
    metadata: { name: "eso-vault" },
  });
  const [metricsPort] = (await freePorts(1)) as [number];
  const esoLog = join(files, "external-secrets.log");
  const esoStarted = Date.now();
  eso = new ServerProcess("external-secrets", esoBinary, [`--metrics-addr=127.0.0.1:${metricsPort}`], esoLog, {
    env: { PATH: process.env.PATH ?? "", HOME: files, KUBECONFIG: esoKubeconfig },
  });
  esoWatchdog = startWatchdog(eso.pid ? [eso.pid] : []);
  const esoPid = eso.pid!;
  for (;;) {
    if (eso.exitReason)
      throw new Error(`external-secrets ${eso.exitReason}; last lines of ${esoLog}:\n${await eso.logTail()}`);
    const log = await readFile(esoLog, "utf8");
    if (/"Starting workers".*"controller":"externalsecret"/.test(log)) break;
    if (Date.now() - esoStarted > READY_TIMEOUT_MS)
      throw new Error(
        `external-secrets started no ExternalSecret workers within ${READY_TIMEOUT_MS / 1000} s; log:\n${await eso.logTail()}`,
      );
    await sleep(POLL_MS);
  }
  const esoReady = { s: seconds(esoStarted, Date.now()), cpuS: await processCpuS(esoPid) };

  // The schedule loop: a tick every INTERVAL_S from t0, the DAG once per tick, never two runs at
  // once; a run that outlasts a whole interval makes the loop skip the ticks it missed.
  interface Tick {
    at: number;
    cpuS: Record<string, number>;
  }
  const ticks: Tick[] = [];
  let stopLoop = false;
  const runTick = async (n: number): Promise<Tick> => {
    const cpuFile = join(files, `tick-${n}.cpu`);
    const at = Date.now();
    const runs = await runDag(unit, {
      kubeconfig: reseedKubeconfig,
      namespace: RESEED_NS,
      env: {
        NODE_EXTRA_CA_CERTS: bao.info.caFile,
        NODE_OPTIONS: `--import=${cpuHook}`,
        RESEED_BENCH_CPU_FILE: cpuFile,
      },
    });
    const failed = runs.find((r) => r.code !== 0);
    if (failed)
      throw new Error(`reseed's ${failed.phase} exited ${failed.code} at tick ${n}: ${failed.stdout.slice(-2000)}`);
    const cpuS: Record<string, number> = {};
    for (const line of (await readFile(cpuFile, "utf8")).trim().split("\n")) {
      const [phase, us] = line.split(" ") as [string, string];
      cpuS[phase] = (cpuS[phase] ?? 0) + Number(us) / 1e6;
    }
    return { at, cpuS };
  };

  // Creation: the unit's first tick and the SecretStore with its ExternalSecret at one instant,
  // so both refresh on the same phase afterwards.
  const t0 = Date.now();
  const esoCpuAtT0 = await processCpuS(esoPid);
  const loop = (async () => {
    for (let n = 0; !stopLoop; n++) {
      const due = t0 + n * INTERVAL_S * 1000;
      if (Date.now() > due + INTERVAL_S * 1000) continue;
      await sleep(due - Date.now());
      if (!stopLoop) ticks.push(await runTick(n));
    }
  })();
  // Shown at once: the Secret polls below would otherwise only time out.
  loop.catch((err: unknown) => console.error(err));
  await client.json("POST", `/apis/external-secrets.io/v1/namespaces/${ESO_NS}/secretstores`, {
    apiVersion: "external-secrets.io/v1",
    kind: "SecretStore",
    metadata: { name: "openbao" },
    spec: {
      provider: {
        vault: {
          server: bao.info.address,
          path: "secret",
          version: "v2",
          caBundle: Buffer.from(await readFile(bao.info.caFile)).toString("base64"),
          auth: {
            kubernetes: { mountPath: "kubernetes", role: "peers-eso", serviceAccountRef: { name: "eso-vault" } },
          },
        },
      },
    },
  });
  await client.json("POST", `/apis/external-secrets.io/v1/namespaces/${ESO_NS}/externalsecrets`, {
    apiVersion: "external-secrets.io/v1",
    kind: "ExternalSecret",
    metadata: { name: SECRET },
    spec: {
      refreshInterval: `${INTERVAL_S}s`,
      secretStoreRef: { kind: "SecretStore", name: "openbao" },
      target: { name: SECRET },
      dataFrom: [{ extract: { key: VAULT_PATH } }],
    },
  });
  const firstTimeout = INTERVAL_S * 1000;
  const [reseedSecretAt, esoSecretAt] = await Promise.all([
    secretHolds(admin, RESEED_NS, firstValues, firstTimeout),
    secretHolds(admin, ESO_NS, firstValues, firstTimeout).then(async (at) => ({
      at,
      cpuS: (await processCpuS(esoPid)) - esoCpuAtT0,
    })),
  ]);
  while (ticks.length === 0) await sleep(POLL_MS);
  const firstTick = ticks[0]!;
  const created = {
    reseed: {
      s: seconds(t0, reseedSecretAt),
      // The steps up to the write; verify runs after the Secret exists.
      cpuS: Object.entries(firstTick.cpuS).reduce((sum, [phase, s]) => (phase === "verify" ? sum : sum + s), 0),
    },
    eso: { s: seconds(t0, esoSecretAt.at), cpuS: esoSecretAt.cpuS },
  };

  // The steady window: from half an interval after t0, so it holds exactly WINDOW_S / INTERVAL_S
  // ticks and no creation work, to the same phase WINDOW_S later.
  const windowStart = t0 + (INTERVAL_S * 1000) / 2;
  await sleep(windowStart - Date.now());
  const kubeMark = await kube.auditMark();
  const vaultMark = await vaultAudit.mark();
  const esoCpuAtStart = await processCpuS(esoPid);
  console.log(`steady window of ${WINDOW_S} s started; the reseed loop ticks every ${INTERVAL_S} s`);
  await sleep(windowStart + WINDOW_S * 1000 - Date.now());
  const windowEnd = Date.now();
  const esoCpuWindow = (await processCpuS(esoPid)) - esoCpuAtStart;
  const writes = async (namespace: string, name: string) =>
    (await kube.writesSince(kubeMark, { user: `system:serviceaccount:${namespace}:${name}` })).map(
      (w) => `${w.verb} ${w.resource}`,
    );
  const reseedWrites = await writes(RESEED_NS, "unit");
  const esoWrites = await writes(ESO_SYSTEM.namespace, ESO_SYSTEM.name);
  const reseedVault = await vaultAudit.requestsWithPolicy(vaultMark, "peers-reseed");
  const esoVault = await vaultAudit.requestsWithPolicy(vaultMark, "peers-eso");
  const inWindow = ticks.filter((t) => t.at >= windowStart && t.at < windowEnd);
  const reseedCpuWindow = inWindow.reduce((sum, t) => sum + Object.values(t.cpuS).reduce((a, b) => a + b, 0), 0);

  // A change of one key half an interval after a tick: both pick it up at their next refresh.
  // A KV v2 write replaces the whole secret, so the other keys are written again unchanged.
  const changedAt = Date.now();
  await vault.kvPut("secret", VAULT_PATH, { ...firstValues, [changedKey]: changedValue });
  const changeTimeout = 3 * INTERVAL_S * 1000;
  const [reseedUpdated, esoUpdated] = await Promise.all([
    secretHolds(admin, RESEED_NS, { [changedKey]: changedValue }, changeTimeout),
    secretHolds(admin, ESO_NS, { [changedKey]: changedValue }, changeTimeout),
  ]);
  stopLoop = true;
  await loop;

  const reads = (requests: string[]) => requests.filter((r) => r.startsWith("read secret/")).length;
  const rows: [string, number, number, (n: number) => string][] = [
    ["time from creation to the Secret existing", created.reseed.s, created.eso.s, (n) => `${n.toFixed(2)} s`],
    ["CPU to that point", created.reseed.cpuS, created.eso.cpuS, (n) => `${n.toFixed(2)} s`],
    [`Kubernetes API writes over the window`, reseedWrites.length, esoWrites.length, String],
    [`Vault reads over the window`, reads(reseedVault), reads(esoVault), String],
    [`Vault requests over the window (all)`, reseedVault.length, esoVault.length, String],
    [`CPU over the window`, reseedCpuWindow, esoCpuWindow, (n) => `${n.toFixed(2)} s`],
    [
      "time from a key change in Vault to the Secret updated",
      seconds(changedAt, reseedUpdated),
      seconds(changedAt, esoUpdated),
      (n) => `${n.toFixed(2)} s`,
    ],
  ];
  const tally = (requests: string[]) =>
    [...new Set(requests)].map((r) => `${requests.filter((x) => x === r).length}× ${r}`).join(", ");
  console.log(
    `\nsecret-sync OpenBao -> Kubernetes Secret (${KEYS} keys): reseed ${unit.spec.ensure.kind} on a ${INTERVAL_S} s schedule loop ` +
      `vs External Secrets Operator ${esoVersion} (refreshInterval ${INTERVAL_S}s), one run, steady window ${WINDOW_S} s (${inWindow.length} reseed ticks)\n`,
  );
  console.log("| figure | reseed | ESO | reseed/ESO |");
  console.log("|---|---|---|---|");
  for (const [label, r, e, fmt] of rows)
    console.log(
      `| ${label} | ${fmt(r)} | ${fmt(e)} | ${e === 0 ? (r === 0 ? "1 (both 0)" : "∞ (ESO 0)") : (r / e).toFixed(2)} |`,
    );
  console.log(
    `\nreseed's side is the built step programs, the four-step DAG per tick, run as processes on this machine: ` +
      "Argo's per-run pod overhead (pod scheduling, image, kubelet, the projected token, the executor) is not " +
      "included; make e2e-bench measures it.",
  );
  console.log(
    `ESO ran as one controller process out of cluster (no webhook, no cert-controller); ` +
      `its start until its workers ran: ${esoReady.s.toFixed(1)} s and ${esoReady.cpuS.toFixed(2)} CPU s (not in the figures).`,
  );
  console.log(
    `Every Vault login through kubernetes auth also makes OpenBao create one TokenReview (not in the writes above). ` +
      `Kubernetes writes over the window: reseed ${tally(reseedWrites) || "none"}; ESO ${tally(esoWrites) || "none"}. ` +
      `Vault requests over the window: reseed ${tally(reseedVault) || "none"}; ESO ${tally(esoVault) || "none"}.`,
  );
} finally {
  esoWatchdog?.disarm();
  await eso?.stop();
  await bao.stop();
  await kube.stop();
}
