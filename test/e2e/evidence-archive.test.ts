// Evidence that outlives the pod (docs/evidence-archive.md), on real servers none of which
// is ours: versitygw (S3) as Argo's artifact repository for archiveLogs, Argo's workflow
// archive on a real PostgreSQL (the suite's test/harness/postgres.ts), and the Argo Server
// (the argo CLI's `argo server`, API only) in front of them, read the way the Argo UI reads it.
//
// A successful run of a unit whose input is a canary Secret: after its Workflow has been
// deleted by its TTL (and its pods with it), the Argo Server still serves its four step logs,
// node statuses and outputs; and neither the archived logs nor the archive rows hold the
// canary or the generated value in any of the leak hunt's forms.
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canary, describeLeak, type Evidence, findLeaks } from "../conformance/leak-hunt.js";
import { startPostgres } from "../harness/postgres.js";
import { freePorts, ServerProcess, startWatchdog } from "../harness/processes.js";
import { examples, root, template } from "../harness/helm.js";
import { isFinished, STEPS, type Workflow } from "./argo.js";
import { cli, e2eEnv, Kube, waitFor } from "./cluster.js";
import { applyRendered } from "./global-setup.js";

const env = e2eEnv();
const kube = new Kube(env.kubeconfig);

const NS = "reseed-evidence";
const UNIT = "e2e-canary";
const BUCKET = "argo-artifacts";
// The leak hunt's canary: no 12-character window of it may occur in a name (an earlier
// "e2e-canary-<hex>" matched the Workflow "e2e-canary-d…" by chance, one run in sixteen).
const CANARY = canary(40);
const RUN = 150_000;
const CONTROLLER_CM = "/api/v1/namespaces/argo/configmaps/workflow-controller-configmap";

const stops: (() => Promise<void> | void)[] = [];
let dir = "";
let argoServer = "";
let db: { host: string; port: number; user: string; password: string } | undefined;
let originalConfig: Record<string, string> = {};

/** The node's address on the pod bridge: where pods reach this machine (the API server's host in the kubeconfig). */
function nodeIp(): string {
  const server = cli(env, "kubectl", [
    "config",
    "view",
    "--minify",
    "--output",
    "jsonpath={.clusters[0].cluster.server}",
  ]);
  return new URL(server).hostname;
}

/**
 * A TCP relay from `host` (the pod bridge) to a loopback-only server (the harness PostgreSQL
 * listens on 127.0.0.1). `close` ends the connections it still holds: a controller pod
 * killed by a restart may leave its side open with no FIN ever arriving, and a net.Server's
 * close waits for every connection to end.
 */
async function relay(host: string, to: number): Promise<{ port: number; close(): Promise<void> }> {
  const [port] = await freePorts(1);
  const open = new Set<Socket>();
  const server = createServer((socket) => {
    const upstream = createConnection({ host: "127.0.0.1", port: to });
    for (const s of [socket, upstream]) {
      open.add(s);
      s.on("close", () => open.delete(s));
    }
    socket.pipe(upstream).pipe(socket);
    socket.on("error", () => upstream.destroy());
    upstream.on("error", () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port!, host, resolve));
  return {
    port: port!,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of open) s.destroy();
      }),
  };
}

async function secret(ns: string, name: string, data: Record<string, string>): Promise<void> {
  await kube.json("DELETE", `/api/v1/namespaces/${ns}/secrets/${name}`, undefined, { allowed: [404] });
  await kube.json("POST", `/api/v1/namespaces/${ns}/secrets`, {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name },
    stringData: data,
  });
}

async function restartController(): Promise<void> {
  cli(env, "kubectl", ["--namespace", "argo", "rollout", "restart", "deployment/workflow-controller"]);
  cli(env, "kubectl", ["--namespace", "argo", "rollout", "status", "deployment/workflow-controller", "--timeout=180s"]);
}

async function api<T>(p: string): Promise<{ status: number; body: T | string }> {
  const res = await fetch(`${argoServer}${p}`);
  const text = await res.text();
  return {
    status: res.status,
    body: res.headers.get("content-type")?.includes("json") ? (JSON.parse(text) as T) : text,
  };
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), "reseed-evidence-"));
  stops.push(() => rmSync(dir, { recursive: true, force: true }));
  const ip = nodeIp();
  const versitygw = process.env.RESEED_VERSITYGW;
  if (!versitygw) throw new Error("RESEED_VERSITYGW must name a versitygw binary: run the e2e tests with `make e2e`");

  // The artifact repository: versitygw on the pod bridge; with its posix backend a bucket is a directory.
  const access = `reseed${randomBytes(4).toString("hex")}`;
  const secretKey = randomBytes(16).toString("hex");
  const [s3Port] = await freePorts(1);
  mkdirSync(path.join(dir, "s3", BUCKET), { recursive: true });
  const gw = new ServerProcess(
    "versitygw",
    versitygw,
    ["--access", access, "--secret", secretKey, "--port", `${ip}:${s3Port}`, "posix", path.join(dir, "s3")],
    path.join(dir, "versitygw.log"),
  );
  stops.push(() => gw.stop());

  // The workflow archive: the harness PostgreSQL, relayed onto the pod bridge.
  const postgres = await startPostgres();
  stops.push(() => postgres.stop());
  const admin = new pg.Client({
    host: postgres.info.host,
    port: postgres.info.port,
    user: postgres.info.superuser,
    password: postgres.info.superPassword,
    database: "postgres",
  });
  await admin.connect();
  await admin.query("CREATE DATABASE argo");
  await admin.end();
  const pgRelay = await relay(ip, postgres.info.port);
  stops.push(() => pgRelay.close());
  db = {
    host: postgres.info.host,
    port: postgres.info.port,
    user: postgres.info.superuser,
    password: postgres.info.superPassword,
  };

  await kube.json("DELETE", `/api/v1/namespaces/${NS}`, undefined, { allowed: [404] });
  await waitFor(`namespace ${NS} to be gone`, 120_000, async () =>
    (await kube.request("GET", `/api/v1/namespaces/${NS}`)).status === 404 ? true : undefined,
  );
  await kube.json("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
  await secret(NS, "argo-artifacts", { accessKey: access, secretKey });
  await secret("argo", "argo-postgres", { username: postgres.info.superuser, password: postgres.info.superPassword });
  await secret(NS, "e2e-canary-input", { token: CANARY });

  // docs/evidence-archive.md's two settings, with this cluster's addresses.
  const cm = await kube.get<{ data?: Record<string, string> }>(CONTROLLER_CM);
  originalConfig = cm.data ?? {};
  stops.push(async () => {
    await kube.json("PATCH", CONTROLLER_CM, [{ op: "replace", path: "/data", value: originalConfig }], {
      contentType: "application/json-patch+json",
    });
    await restartController();
  });
  await kube.json(
    "PATCH",
    CONTROLLER_CM,
    {
      data: {
        artifactRepository: [
          "s3:",
          `  bucket: ${BUCKET}`,
          `  endpoint: ${ip}:${s3Port}`,
          "  insecure: true",
          "  accessKeySecret: { name: argo-artifacts, key: accessKey }",
          "  secretKeySecret: { name: argo-artifacts, key: secretKey }",
        ].join("\n"),
        persistence: [
          "archive: true",
          "postgresql:",
          `  host: ${ip}`,
          `  port: ${pgRelay.port}`,
          "  database: argo",
          "  tableName: argo_workflows",
          "  userNameSecret: { name: argo-postgres, key: username }",
          "  passwordSecret: { name: argo-postgres, key: password }",
        ].join("\n"),
      },
    },
    { contentType: "application/merge-patch+json" },
  );
  await restartController();

  // The Argo Server, API only, as the UI would reach it (no auth: a local test server).
  const [port] = await freePorts(1);
  const server = new ServerProcess(
    "argo-server",
    env.argo,
    ["server", "--namespace", "argo", "--auth-mode", "server", "--secure=false", "--port", String(port)],
    path.join(dir, "argo-server.log"),
    { env: { ...process.env, KUBECONFIG: env.kubeconfig } },
  );
  stops.push(() => server.stop());
  const watchdog = startWatchdog([gw.pid, server.pid].filter((p): p is number => p !== undefined));
  stops.push(() => watchdog.disarm());
  argoServer = `http://127.0.0.1:${port}`;
  await waitFor("the Argo Server to answer", 60_000, async () => {
    for (const p of [gw, server]) if (p.exitReason) throw new Error(`${p.name} ${p.exitReason}:\n${await p.logTail()}`);
    return fetch(`${argoServer}/api/v1/version`).then(
      (r) => (r.ok ? true : undefined),
      () => undefined,
    );
  });
}, 400_000);

afterAll(async () => {
  await kube.json("DELETE", `/api/v1/namespaces/${NS}`, undefined, { allowed: [404] });
  for (const stop of stops.reverse()) await stop();
}, 300_000);

describe("evidence that outlives the pod: archiveLogs to S3 (versitygw), the workflow archive (PostgreSQL), read through the Argo Server", () => {
  it("after a successful run's pods are gone and its Workflow is deleted by its TTL, the Argo Server serves its four step logs, node statuses and outputs, and no canary", async () => {
    const overlay = path.join(dir, "overlay.yaml");
    writeFileSync(overlay, JSON.stringify({ defaults: { archiveLogs: true, ttlSecondsAfterSuccess: 5 } }));
    const r = template([examples.local, path.join(root, "test/e2e/values.yaml"), overlay], "--namespace", NS);
    if (!r.ok) throw new Error(`helm template failed:\n${r.err}`);
    applyRendered(env, NS, r.out);
    const name = cli(env, env.argo, [
      "submit",
      "--from",
      `cronwf/${UNIT}`,
      "--output",
      "name",
      "--namespace",
      NS,
    ]).trim();
    const done = await waitFor(`workflow ${name} to finish`, RUN, async () => {
      const res = await kube.request("GET", `/apis/argoproj.io/v1alpha1/namespaces/${NS}/workflows/${name}`);
      const wf = res.status === 200 ? (JSON.parse(res.body) as Workflow) : undefined;
      return wf && isFinished(wf) ? wf : undefined;
    });
    expect(done.status?.phase, done.status?.message).toBe("Succeeded");
    const uid = done.metadata.uid;

    await waitFor(`workflow ${name} to be deleted by its TTL, and its pods with it`, 120_000, async () => {
      const wf = await kube.request("GET", `/apis/argoproj.io/v1alpha1/namespaces/${NS}/workflows/${name}`);
      const pods = await kube.get<{ items: unknown[] }>(
        `/api/v1/namespaces/${NS}/pods?labelSelector=${encodeURIComponent(`workflows.argoproj.io/workflow=${name}`)}`,
      );
      return wf.status === 404 && pods.items.length === 0 ? true : undefined;
    });

    const archived = await waitFor(`the Argo Server to serve archived workflow ${uid}`, 60_000, async () => {
      const res = await api<Workflow>(`/api/v1/archived-workflows/${uid}`);
      return res.status === 200 ? (res.body as Workflow) : undefined;
    });
    const steps = Object.values(archived.status?.nodes ?? {}).filter((n) => n.type === "Pod");
    expect(steps.map((n) => [n.displayName, n.phase]).sort()).toEqual(STEPS.map((s) => [s, "Succeeded"]).sort());
    for (const n of steps)
      expect(n.outputs?.parameters?.find((p) => p.name === "summary")?.value, n.displayName).toBeTruthy();

    const evidence: Evidence[] = [{ where: "archived workflow (Argo Server)", text: JSON.stringify(archived) }];
    for (const n of steps) {
      const log = await api<string>(`/artifact-files/${NS}/archived-workflows/${uid}/${n.id}/outputs/main-logs`);
      expect(log.status, `${n.displayName} log: ${String(log.body).slice(0, 200)}`).toBe(200);
      expect(String(log.body)).toContain('"event":"step.summary"');
      evidence.push({ where: `${n.displayName} archived log`, text: String(log.body) });
    }
    const client = new pg.Client({ ...db!, database: "argo" });
    await client.connect();
    try {
      const rows = await client.query("SELECT * FROM argo_archived_workflows");
      expect(rows.rows.length).toBeGreaterThan(0);
      evidence.push({ where: "argo_archived_workflows rows (PostgreSQL)", text: JSON.stringify(rows.rows) });
    } finally {
      await client.end();
    }
    const generated = await kube.get<{ data: Record<string, string> }>(
      `/api/v1/namespaces/${NS}/secrets/e2e-canary-generated`,
    );
    const secrets = {
      canary: CANARY,
      ...Object.fromEntries(
        Object.entries(generated.data).map(([k, v]) => [`generated ${k}`, Buffer.from(v, "base64").toString("utf8")]),
      ),
    };
    const leaks = findLeaks(secrets, evidence);
    expect(leaks.map(describeLeak)).toEqual([]);
    console.log(
      `evidence archive: workflow ${name} (uid ${uid}) deleted by TTL; the Argo Server served ${steps.length} node statuses and ${evidence.length - 2} archived step logs; leak scan of ${evidence.length} pieces: clean`,
    );
  });
});
