// The fault matrix (docs/faults.md): faults injected into the real servers at the moment
// that loses data — between a step's read and its write — each row with the same four
// assertions: (a) nothing that existed before changed or was deleted, (b) the failure names
// the fault and the clause (exit code, summary, Event) with no secret in it, (c) the next run
// converges, (d) that run's rerun writes nothing, counted at the server.
//
// Injection: test/harness/fault-proxy.ts sits in front of the real kube-apiserver or OpenBao
// and runs a hook on the chosen request before forwarding it; the kube-apiserver and the
// PostgreSQL this file restarts are its own (only processes it started).
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { ExitCode } from "../../steps/core/errors.js";
import * as authorities from "../harness/authorities.js";
import { authorityServers } from "../harness/authority-servers.js";
import type { FakeKeyVault } from "../harness/fake-key-vault.js";
import type { KubeAccess } from "../harness/kube.js";
import { jsonClient } from "../harness/kube-http.js";
import { startKubeServer, type KubeServer } from "../harness/kube-server.js";
import { startPostgres } from "../harness/postgres.js";
import { freePorts } from "../harness/processes.js";
import { Admin } from "../harness/kube-admin.js";
import { startFakeArm, type FakeArmSetup } from "../harness/fake-arm.js";
import { startFaultProxy, type FaultProxy } from "../harness/fault-proxy.js";
import { PostgresTestAdmin } from "../harness/postgres-admin.js";
import {
  allText,
  codes,
  lastLine,
  problemsOf,
  runDag,
  runStepProcess,
  type StepOptions,
  type StepRun,
} from "../harness/steps.js";
import { seedingUnit as unit, unitKubeconfig as asUnit, type SeedingUnit as Unit } from "../harness/units.js";

const { kubeInfo, baoInfo, kube, admin, bao, audit: baoAudit, files } = authorityServers("faults");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The same identity (its token), reaching the API server through the proxy. */
async function throughProxy(kubeconfig: string, proxy: FaultProxy): Promise<string> {
  const doc = parse(await readFile(kubeconfig, "utf8")) as { clusters: Array<{ cluster: Record<string, string> }> };
  doc.clusters[0]!.cluster.server = proxy.url;
  doc.clusters[0]!.cluster["certificate-authority"] = proxy.caFile;
  const out = `${kubeconfig}.via-proxy.yaml`;
  await writeFile(out, stringify(doc), { mode: 0o600 });
  return out;
}

/** The ServiceAccount token a kubeconfig carries: a credential no output may show. */
async function tokenOf(kubeconfig: string): Promise<string> {
  const doc = parse(await readFile(kubeconfig, "utf8")) as { users: Array<{ user: { token: string } }> };
  return doc.users[0]!.user.token;
}

/** A concurrent writer: a real update of the Secret (a new resourceVersion), not a recreate. */
async function editSecret(who: Admin, ns: string, name: string, data: Record<string, string>): Promise<void> {
  const current = await who.core.readNamespacedSecret({ name, namespace: ns });
  await who.core.replaceNamespacedSecret({
    name,
    namespace: ns,
    body: {
      ...current,
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString("base64")])),
    },
  });
}

/** (b) for every row: the summary carries the clause, the text names the fault, no value leaks. */
function expectNamedFailure(
  run: StepRun,
  code: number,
  fault: RegExp,
  secrets: string[],
  runs: StepRun[] = [run],
): void {
  expect(run.code).toBe(code);
  expect(lastLine(run)).toMatchObject({ result: "failed", exitCode: code });
  expect(problemsOf(run)).toMatch(fault);
  const text = allText(runs);
  for (const s of secrets) expect(text).not.toContain(s);
}

/** (d) for the rows at an API server: the rerun is unchanged and `server`'s audit log shows no write by the unit. */
async function expectQuietRerun(
  server: KubeAccess | KubeServer,
  u: Unit,
  kubeconfig: string,
  ns: string,
): Promise<void> {
  const mark = await server.auditMark();
  expect((await runDag(u, { kubeconfig, namespace: ns }))[2]!.outputs.action).toBe("unchanged");
  expect(await server.writesSince(mark, { namespace: ns, user: `system:serviceaccount:${ns}:unit` })).toEqual([]);
}

/**
 * validate-inputs and wait-deps of `u`, both succeeding, as the DAG runs them before
 * ensure-state: for the rows that arm their fault just before ensure-state, which takes the
 * fingerprint returned.
 */
async function untilEnsure(u: Unit, o: StepOptions): Promise<string> {
  const validated = await runStepProcess("validate-inputs", u, o);
  const fingerprint = validated.outputs.fingerprint!;
  expect(codes([validated, await runStepProcess("wait-deps", u, { ...o, fingerprint })])).toEqual([0, 0]);
  return fingerprint;
}

/** Waits until the API server refuses this Authorization header (401). */
async function untilRefused(authorization: string): Promise<void> {
  const ca = await readFile(kubeInfo.caFile);
  const client = jsonClient(kubeInfo.url, (o) => {
    o.headers = { ...o.headers, authorization };
    o.ca = ca;
  });
  const deadline = Date.now() + 30_000;
  while ((await client.request("GET", "/api")).status !== 401) {
    if (Date.now() > deadline) throw new Error("the revoked token was still accepted after 30 s");
    await sleep(100);
  }
}

const secretWrite = (ns: string, name?: string) => (r: { method: string; path: string }) =>
  (r.method === "PUT" || r.method === "POST") &&
  r.path.startsWith(`/api/v1/namespaces/${ns}/secrets`) &&
  (name === undefined || r.path.split("?")[0]!.endsWith(`/secrets/${name}`) || r.method === "POST");

describe("faults at the kube-apiserver (generated-secret, a Kubernetes Secret)", () => {
  let proxy: FaultProxy;
  beforeAll(async () => {
    proxy = await startFaultProxy({ upstream: kubeInfo.url, upstreamCaFile: kubeInfo.caFile });
  });
  afterAll(async () => {
    await proxy.stop();
  });

  const gen = (name = "db-password") =>
    unit(name, {
      kind: "generated-secret",
      with: {
        secret: { name: "db" },
        keys: [{ name: "password" }, { name: "replication", length: 16, charset: "hex" }],
      },
    });

  it("a concurrent writer changes the Secret between read and write: the write is refused (409), both values kept", async () => {
    const ns = "fault-conflict";
    const u = gen();
    const kubeconfig = await asUnit(kube, admin, ns, u);
    const human = `set-by-a-human-${randomBytes(6).toString("hex")}`;
    const concurrent = `concurrent-${randomBytes(6).toString("hex")}`;
    await admin.putSecret(ns, "db", { password: human });
    const hooked = proxy.intercept(secretWrite(ns, "db"), async () => {
      await editSecret(admin, ns, "db", { password: human, other: concurrent });
      return "forward";
    });
    const runs = await runDag(u, {
      kubeconfig: await throughProxy(kubeconfig, proxy),
      namespace: ns,
      workflow: { name: "fault-conflict-1" },
    });
    await hooked;
    // (a) the human's value and the concurrent writer's are both there; nothing generated landed.
    expect(await admin.readSecret(ns, "db")).toEqual({ password: human, other: concurrent });
    // (b) exit 13, the API server's 409 named, in the summary and in the Event, no value in either.
    expect(codes(runs)).toEqual([0, 0, ExitCode.ensureFailed]);
    expectNamedFailure(
      runs[2]!,
      ExitCode.ensureFailed,
      /HTTP 409.*(the object has been modified|Operation cannot be fulfilled)/,
      [human, concurrent, await tokenOf(kubeconfig)],
      runs,
    );
    const events = (await admin.eventNotes(ns)).join("\n");
    expect(events).toMatch(/409/);
    expect(events).not.toContain(human);
    // (c) the next run converges on what the concurrent writer left.
    const next = await runDag(u, { kubeconfig, namespace: ns });
    expect(codes(next)).toEqual([0, 0, 0, 0]);
    const after = await admin.readSecret(ns, "db");
    expect(after).toMatchObject({ password: human, other: concurrent });
    expect(after?.replication).toMatch(/^[0-9a-f]{16}$/);
    // (d) its rerun writes nothing at the API server.
    await expectQuietRerun(kube, u, kubeconfig, ns);
  });

  it("two runs race on a missing Secret: one value wins (201), the other run fails naming the 409, and converges on the winner's value", async () => {
    const ns = "fault-race";
    const u = gen();
    const kubeconfig = await asUnit(kube, admin, ns, u);
    const viaProxy = await throughProxy(kubeconfig, proxy);
    // Both runs read "absent"; the first create is held until the second arrives, so both
    // are in flight at once; the first is let through first.
    let releaseFirst!: () => void;
    const secondArrived = new Promise<void>((resolve) => (releaseFirst = resolve));
    const first = proxy.intercept(secretWrite(ns), async () => {
      await secondArrived;
      return "forward";
    });
    const second = proxy.intercept(secretWrite(ns), async () => {
      releaseFirst();
      await sleep(500);
      return "forward";
    });
    const [a, b] = await Promise.all([
      runDag(u, { kubeconfig: viaProxy, namespace: ns, workflow: { name: "fault-race-a" } }),
      runDag(u, { kubeconfig: viaProxy, namespace: ns, workflow: { name: "fault-race-b" } }),
    ]);
    await Promise.all([first, second]);
    const [winner, loser] = a[2]!.code === 0 ? [a, b] : [b, a];
    const won = await admin.readSecret(ns, "db");
    // Evidence of both: the winner created the Secret and verified it; the loser says the
    // Secret already exists (another writer won) and wrote nothing.
    expect(codes(winner)).toEqual([0, 0, 0, 0]);
    expect(winner[2]!.outputs.action).toBe("created");
    expect(codes(loser)).toEqual([0, 0, ExitCode.ensureFailed]);
    expectNamedFailure(
      loser[2]!,
      ExitCode.ensureFailed,
      /HTTP 409.*already exists/,
      [won!.password!, won!.replication!],
      [...winner, ...loser],
    );
    // (c) the loser's next run keeps the winner's value: nothing regenerated.
    const next = await runDag(u, { kubeconfig, namespace: ns });
    expect(codes(next)).toEqual([0, 0, 0, 0]);
    expect(next[2]!.outputs.action).toBe("unchanged");
    expect(await admin.readSecret(ns, "db")).toEqual(won);
    // (d)
    await expectQuietRerun(kube, u, kubeconfig, ns);
  });

  it("the ServiceAccount token is revoked between read and write: 401 named, nothing written, a new token converges", async () => {
    const ns = "fault-sa-token";
    const u = gen();
    const kubeconfig = await asUnit(kube, admin, ns, u);
    const human = `set-by-a-human-${randomBytes(6).toString("hex")}`;
    await admin.putSecret(ns, "db", { password: human });
    // Deleting the ServiceAccount revokes every token bound to it (the API server checks the
    // uid on each request): the moment a rotated-out or revoked token is presented.
    const hooked = proxy.intercept(secretWrite(ns, "db"), async (req) => {
      await admin.core.deleteNamespacedServiceAccount({ name: "unit", namespace: ns });
      // The authenticator sees the deletion through its informer a moment later: the write
      // goes on only once the token is refused, as it would be for good.
      await untilRefused(String(req.headers.authorization));
      return "forward";
    });
    const runs = await runDag(u, { kubeconfig: await throughProxy(kubeconfig, proxy), namespace: ns });
    await hooked;
    expect(await admin.readSecret(ns, "db")).toEqual({ password: human });
    expect(codes(runs)).toEqual([0, 0, ExitCode.ensureFailed]);
    expectNamedFailure(
      runs[2]!,
      ExitCode.ensureFailed,
      /HTTP 401|Unauthorized/,
      [human, await tokenOf(kubeconfig)],
      runs,
    );
    // (c) the pod's next run has a fresh token (kubeconfigFor recreates the ServiceAccount).
    const fresh = await kube.kubeconfigFor(ns, "unit");
    expect(codes(await runDag(u, { kubeconfig: fresh, namespace: ns }))).toEqual([0, 0, 0, 0]);
    expect((await admin.readSecret(ns, "db"))?.password).toBe(human);
    await expectQuietRerun(kube, u, fresh, ns);
  });
});

describe("the kube-apiserver stopped between read and write, then restarted (a server of this file's own)", () => {
  let own: KubeServer;
  let ownAdmin: Admin;
  let proxy: FaultProxy;
  beforeAll(async () => {
    own = await startKubeServer();
    ownAdmin = new Admin(own.adminKubeconfig);
    proxy = await startFaultProxy({ upstream: own.url, upstreamCaFile: own.caFile });
  }, 120_000);
  afterAll(async () => {
    await proxy?.stop();
    await own?.stop();
  });

  it("fails ensure naming the lost connection, keeps every value, and the run after the restart converges with no write on its rerun", async () => {
    const ns = "fault-apiserver-down";
    const u = unit("db-password", {
      kind: "generated-secret",
      with: { secret: { name: "db" }, keys: [{ name: "password" }, { name: "api-key" }] },
    });
    const kubeconfig = await asUnit(own, ownAdmin, ns, u);
    const human = `set-by-a-human-${randomBytes(6).toString("hex")}`;
    await ownAdmin.putSecret(ns, "db", { password: human });
    const hooked = proxy.intercept(secretWrite(ns, "db"), async () => {
      await own.stopApiServer();
      return "forward";
    });
    const started = Date.now();
    const runs = await runDag(u, { kubeconfig: await throughProxy(kubeconfig, proxy), namespace: ns });
    await hooked;
    // Bounded: the step does not hang on a server that is gone.
    expect(Date.now() - started).toBeLessThan(60_000);
    await own.startApiServer();
    expect(codes(runs)).toEqual([0, 0, ExitCode.ensureFailed]);
    expectNamedFailure(
      runs[2]!,
      ExitCode.ensureFailed,
      /socket hang up|ECONNRESET|ECONNREFUSED|other side closed/,
      [human],
      runs,
    );
    expect(await ownAdmin.readSecret(ns, "db")).toEqual({ password: human });
    const next = await runDag(u, { kubeconfig, namespace: ns });
    expect(codes(next)).toEqual([0, 0, 0, 0]);
    expect((await ownAdmin.readSecret(ns, "db"))?.password).toBe(human);
    await expectQuietRerun(own, u, kubeconfig, ns);
  });
});

describe("faults at Vault (the real OpenBao; generated-secret with check-and-set)", () => {
  let proxy: FaultProxy;
  let bundle = "";
  const ns = "fault-vault";
  const tokenFile = join(files, "fault-vault.token");
  const gen = (path: string, address: string) =>
    unit("vault-password", {
      kind: "generated-secret",
      with: {
        vault: { address, path, auth: { kubernetes: { role: "fault-vault", tokenFile } } },
        keys: [{ name: "password" }, { name: "api-key" }],
      },
    });
  const opts = async (u: Unit) => ({
    kubeconfig: await asUnit(kube, admin, ns, u),
    namespace: ns,
    env: authorities.authorityStepEnv(bundle),
  });

  beforeAll(async () => {
    proxy = await startFaultProxy({ upstream: baoInfo.address, upstreamCaFile: baoInfo.caFile });
    bundle = await authorities.caBundle([baoInfo.caFile, proxy.caFile], files);
    await authorities.vaultUnitRole(
      bao,
      kubeInfo,
      ns,
      "fault-vault",
      'path "secret/data/faults/*" { capabilities = ["create", "read", "update"] }\npath "secret/metadata/faults/*" { capabilities = ["create", "read", "update"] }',
      tokenFile,
    );
  });
  afterAll(async () => {
    await proxy.stop();
  });

  const kvWrite = (path: string) => (r: { method: string; path: string }) =>
    (r.method === "POST" || r.method === "PUT") && r.path === `/v1/secret/data/faults/${path}`;

  /** (c) and (d) of every Vault row: the next run converges keeping `kept`, its rerun writes nothing at OpenBao. */
  async function convergesKeeping(path: string, kept: Record<string, string>): Promise<void> {
    const u = gen(`faults/${path}`, baoInfo.address);
    expect(codes(await runDag(u, await opts(u)))).toEqual([0, 0, 0, 0]);
    const data = (await bao.kvGet("secret", `faults/${path}`))!.data;
    expect(data).toMatchObject(kept);
    expect(data["api-key"]).toMatch(/^[A-Za-z0-9]{32}$/);
    const mark = await baoAudit.mark();
    expect((await runDag(u, await opts(u)))[2]!.outputs.action).toBe("unchanged");
    expect(await baoAudit.since(mark)).toEqual([]);
  }

  it("a concurrent writer makes a new version between read and write: check-and-set refuses ours, both values kept", async () => {
    const human = `set-before-${randomBytes(6).toString("hex")}`;
    const concurrent = `concurrent-${randomBytes(6).toString("hex")}`;
    await bao.kvPut("secret", "faults/cas", { password: human });
    let vaultToken = "";
    const hooked = proxy.intercept(kvWrite("cas"), async (req) => {
      vaultToken = String(req.headers["x-vault-token"]);
      await bao.kvPut("secret", "faults/cas", { password: human, other: concurrent });
      return "forward";
    });
    const u = gen("faults/cas", proxy.url);
    const runs = await runDag(u, await opts(u));
    await hooked;
    expect((await bao.kvGet("secret", "faults/cas"))?.data).toEqual({ password: human, other: concurrent });
    expect(codes(runs)).toEqual([0, 0, ExitCode.ensureFailed]);
    expectNamedFailure(
      runs[2]!,
      ExitCode.ensureFailed,
      /check-and-set version 1.*check-and-set parameter did not match/,
      [human, concurrent, vaultToken],
      runs,
    );
    expect(vaultToken.length).toBeGreaterThan(10);
    await convergesKeeping("cas", { password: human, other: concurrent });
  });

  it("the Vault token is revoked between read and write: 403 named, nothing written, the next login converges", async () => {
    const human = `set-before-${randomBytes(6).toString("hex")}`;
    await bao.kvPut("secret", "faults/revoked", { password: human });
    let vaultToken = "";
    const hooked = proxy.intercept(kvWrite("revoked"), async (req) => {
      vaultToken = String(req.headers["x-vault-token"]);
      await bao.write("auth/token/revoke", { token: req.headers["x-vault-token"] });
      return "forward";
    });
    const u = gen("faults/revoked", proxy.url);
    const runs = await runDag(u, await opts(u));
    await hooked;
    expect((await bao.kvGet("secret", "faults/revoked"))?.data).toEqual({ password: human });
    expect(codes(runs)).toEqual([0, 0, ExitCode.ensureFailed]);
    expectNamedFailure(runs[2]!, ExitCode.ensureFailed, /HTTP 403: permission denied/, [human, vaultToken], runs);
    expect(vaultToken.length).toBeGreaterThan(10);
    await convergesKeeping("revoked", { password: human });
  });

  it("Vault is sealed between wait-deps and ensure-state: ensure fails naming the seal, nothing written; unsealed, the next run converges", async () => {
    const human = `set-before-${randomBytes(6).toString("hex")}`;
    await bao.kvPut("secret", "faults/sealed", { password: human });
    const u = gen("faults/sealed", baoInfo.address);
    const o = await opts(u);
    const fingerprint = await untilEnsure(u, o);
    await bao.seal();
    let ensure: StepRun;
    try {
      ensure = await runStepProcess("ensure-state", u, { ...o, fingerprint });
    } finally {
      await bao.unseal();
    }
    expectNamedFailure(ensure, ExitCode.ensureFailed, /HTTP 503.*[Vv]ault is sealed/, [human]);
    expect((await bao.kvGet("secret", "faults/sealed"))?.data).toEqual({ password: human });
    await convergesKeeping("sealed", { password: human });
  });
});

describe("PostgreSQL restarted in the middle of a migration file and of a seed (a server of this file's own)", () => {
  let pg: Awaited<ReturnType<typeof startPostgres>>;
  let db: PostgresTestAdmin;
  const ns = "fault-postgres";
  const password = `bootstrap-${randomBytes(12).toString("hex")}`;
  const u = (runId: string) =>
    unit(
      "fault-db",
      {
        kind: "postgres-bootstrap",
        with: {
          connection: {
            host: "127.0.0.1",
            port: 0,
            user: { input: "dbUser" },
            password: { input: "dbPassword" },
            ssl: "disable",
          },
          databases: [
            {
              name: "app",
              owner: "fault_bootstrap",
              migrations: { configMap: { name: "app-sql" } },
              seed: { runId, files: { configMap: { name: "app-seed" } } },
            },
          ],
        },
      },
      {
        inputs: {
          dbUser: { secretKeyRef: { name: "pg", key: "username" } },
          dbPassword: { secretKeyRef: { name: "pg", key: "password" } },
        },
      },
    );
  const withPort = (x: Unit): Unit => {
    const w = x.spec.ensure.with as { connection: { port: number } };
    w.connection.port = pg.info.port;
    return x;
  };
  let kubeconfig = "";

  beforeAll(async () => {
    pg = await startPostgres();
    db = new PostgresTestAdmin(pg.info);
    await db.bootstrapRole("fault_bootstrap", password);
    kubeconfig = await asUnit(kube, admin, ns, withPort(u("r1")));
    await admin.putSecret(ns, "pg", { username: "fault_bootstrap", password });
    // pg_sleep in the middle of each file: the restart lands while the file is running.
    await admin.putConfigMap(ns, "app-sql", {
      "001-tables.sql": "CREATE TABLE first_half (id int); SELECT pg_sleep(3); CREATE TABLE second_half (id int);",
    });
    await admin.putConfigMap(ns, "app-seed", {
      "10-rows.sql": "INSERT INTO first_half VALUES (1); SELECT pg_sleep(3); INSERT INTO second_half VALUES (2);",
    });
  }, 120_000);
  afterAll(async () => {
    await pg?.stop();
  });

  /** Restarts PostgreSQL as soon as the step's statement containing `marker` sits in pg_sleep. */
  async function restartDuring(marker: string): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const rows = await db
        .query(
          "SELECT 1 FROM pg_stat_activity WHERE usename = 'fault_bootstrap' AND state = 'active' AND query LIKE $1",
          [`%${marker}%pg_sleep%`],
        )
        .catch(() => []);
      if (rows.length) break;
      if (Date.now() > deadline) throw new Error(`the step never reached the pg_sleep after ${marker} within 60 s`);
      await sleep(50);
    }
    await pg.restart();
  }
  const inApp = <R extends Record<string, unknown>>(sql: string) => db.query<R>(sql, [], "app");
  const tables = async () =>
    (await inApp<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).map(
      (r) => r.t,
    );
  /** `column` of every row of the step's table reseed.`table`; none before the step has created it. */
  const reseedRows = async (table: string, column: string) =>
    (await inApp<{ ok: boolean }>(`SELECT to_regclass('reseed.${table}') IS NOT NULL AS ok`))[0]!.ok
      ? (await inApp<Record<string, string>>(`SELECT ${column} FROM reseed.${table} ORDER BY 1`)).map((r) => r[column]!)
      : [];
  const ledgerFiles = () => reseedRows("applied_sql", "file");
  const seedRuns = () => reseedRows("seed_runs", "run_id");
  /** (b) for a run with PostgreSQL restarted inside `marker`'s statement: ensure-state fails naming `clause`. */
  async function expectRestartNamed(target: Unit, workflow: string, marker: string, clause: RegExp): Promise<void> {
    const [runs] = await Promise.all([
      runDag(target, { kubeconfig, namespace: ns, workflow: { name: workflow } }),
      restartDuring(marker),
    ]);
    expect(codes(runs)).toEqual([0, 0, ExitCode.ensureFailed]);
    expectNamedFailure(runs[2]!, ExitCode.ensureFailed, clause, [password], runs);
  }

  it("mid-migration and then mid-seed: nothing half-applied, the ledger exact, the next run applies each file once", async () => {
    const target = withPort(u("r1"));
    // 1. Restarted while the migration file runs: none of it is left, and the ledger does not list it.
    await expectRestartNamed(
      target,
      "fault-pg-1",
      "CREATE TABLE first_half",
      /001-tables\.sql[^"]*(terminating connection|Connection terminated|ECONNRESET)/,
    );
    expect(await tables()).toEqual([]);
    expect(await ledgerFiles()).toEqual([]);
    // 2. The next run applies the file (once), then is restarted in the seed: the seed's rows
    // are rolled back and no seed run is recorded; the applied file stays applied, once.
    await expectRestartNamed(
      target,
      "fault-pg-2",
      "INSERT INTO first_half",
      /10-rows\.sql[^"]*(terminating connection|Connection terminated|ECONNRESET)|seed[^"]*(terminating connection|Connection terminated|ECONNRESET)/,
    );
    expect(await tables()).toEqual(["first_half", "second_half"]);
    expect(await ledgerFiles()).toEqual(["001-tables.sql"]);
    expect(await inApp("SELECT * FROM first_half")).toEqual([]);
    expect(await seedRuns()).toEqual([]);
    // 3. (c) converges: the seed once, the file not again.
    const next = await runDag(target, { kubeconfig, namespace: ns });
    expect(codes(next)).toEqual([0, 0, 0, 0]);
    expect(await inApp("SELECT id FROM first_half UNION ALL SELECT id FROM second_half")).toEqual([
      { id: 1 },
      { id: 2 },
    ]);
    expect(await ledgerFiles()).toEqual(["001-tables.sql"]);
    expect(await seedRuns()).toEqual(["r1"]);
    // 4. (d) its rerun writes nothing, counted by PostgreSQL.
    const counter = db.writeCounter();
    const mark = await counter.mark();
    expect((await runDag(target, { kubeconfig, namespace: ns }))[2]!.outputs.action).toBe("unchanged");
    expect(await counter.since(mark)).toEqual([]);
  });
});

describe("dependencies that are not there: DNS failure, connection refused, an untrusted certificate (wait-deps, bounded)", () => {
  let refused = 0;
  beforeAll(async () => {
    [refused] = (await freePorts(1)) as [number];
  });
  const rows: Array<{ fault: string; dependency: () => Record<string, unknown>; names: RegExp }> = [
    {
      fault: "http: DNS failure",
      dependency: () => ({ http: { url: "https://no-such-host.invalid/healthz" } }),
      names: /ENOTFOUND|EAI_AGAIN/,
    },
    {
      fault: "http: connection refused",
      dependency: () => ({ http: { url: `http://127.0.0.1:${refused}/healthz` } }),
      names: /ECONNREFUSED/,
    },
    {
      fault: "tcp: DNS failure",
      dependency: () => ({ tcp: { host: "no-such-host.invalid", port: 5432 } }),
      names: /ENOTFOUND|EAI_AGAIN/,
    },
    {
      fault: "tcp: connection refused",
      dependency: () => ({ tcp: { host: "127.0.0.1", port: refused } }),
      names: /ECONNREFUSED/,
    },
    {
      fault: "vault: DNS failure",
      dependency: () => ({ vault: { address: "https://no-such-host.invalid:8200" } }),
      names: /ENOTFOUND|EAI_AGAIN/,
    },
    {
      fault: "vault: connection refused",
      dependency: () => ({ vault: { address: `https://127.0.0.1:${refused}` } }),
      names: /ECONNREFUSED/,
    },
    // The test OpenBao's CA is not given to the step: its certificate is untrusted.
    {
      fault: "vault: untrusted certificate",
      dependency: () => ({ vault: { address: baoInfo.address } }),
      names: /self[- ]signed|unable to verify|certificate/i,
    },
    {
      fault: "http: untrusted certificate",
      dependency: () => ({ http: { url: `${kubeInfo.url}/readyz` } }),
      names: /self[- ]signed|unable to verify|certificate/i,
    },
  ];
  it.each(rows)(
    "$fault: exit 12 naming the dependency and the cause, within the deadline, nothing written",
    async ({ dependency, names }) => {
      const ns = "fault-deps";
      const u = unit(
        "deps",
        { kind: "generated-secret", with: { secret: { name: "never" }, keys: [{ name: "k" }] } },
        { waitTimeoutSeconds: 2, dependencies: [dependency()] },
      );
      const kubeconfig = await asUnit(kube, admin, ns, u);
      const mark = await kube.auditMark();
      const started = Date.now();
      const runs = await runDag(u, { kubeconfig, namespace: ns });
      expect(Date.now() - started).toBeLessThan(20_000);
      expect(codes(runs)).toEqual([0, ExitCode.dependencyTimeout]);
      expectNamedFailure(runs[1]!, ExitCode.dependencyTimeout, names, []);
      expect(problemsOf(runs[1]!)).toMatch(/^\[\{"subject":"(http|tcp|vault) /);
      expect(await kube.writesSince(mark, { namespace: ns, user: `system:serviceaccount:${ns}:unit` })).toEqual([]);
      expect(await admin.readSecret(ns, "never")).toBeUndefined();
    },
  );

  it("kubernetes: an API server whose name does not resolve, or that refuses, is named and bounded", async () => {
    const ns = "fault-deps-kube";
    const u = unit(
      "deps",
      { kind: "generated-secret", with: { secret: { name: "never" }, keys: [{ name: "k" }] } },
      {
        waitTimeoutSeconds: 2,
        dependencies: [{ kubernetes: { apiVersion: "v1", kind: "ConfigMap", name: "there" } }],
      },
    );
    const kubeconfig = await asUnit(kube, admin, ns, u);
    for (const [server, names] of [
      ["https://no-such-host.invalid:6443", /ENOTFOUND|EAI_AGAIN/],
      [`https://127.0.0.1:${refused}`, /ECONNREFUSED/],
    ] as const) {
      const doc = parse(await readFile(kubeconfig, "utf8")) as { clusters: Array<{ cluster: Record<string, string> }> };
      doc.clusters[0]!.cluster.server = server;
      const broken = `${kubeconfig}.broken.yaml`;
      await writeFile(broken, stringify(doc), { mode: 0o600 });
      const started = Date.now();
      const runs = await runDag(u, { kubeconfig: broken, namespace: ns });
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(codes(runs)).toEqual([0, ExitCode.dependencyTimeout]);
      expectNamedFailure(runs[1]!, ExitCode.dependencyTimeout, names, []);
      expect(problemsOf(runs[1]!)).toContain("kubernetes ConfigMap fault-deps-kube/there");
    }
  });
});

describe("Key Vault answers 429 and 503 with Retry-After (the fake)", () => {
  let azure: FakeKeyVault;
  let bundle = "";
  let env: Record<string, string> = {};
  let vault: authorities.KeyVaultAdmin;
  const ns = "fault-keyvault";
  const gen = () =>
    unit("kv-password", {
      kind: "generated-secret",
      with: { keyVault: { url: vault.url }, keys: [{ name: "db-password" }, { name: "api-key" }] },
    });

  beforeAll(async () => {
    azure = await authorities.fakeKeyVault(kubeInfo);
    bundle = await authorities.caBundle([azure.caFile], files);
    vault = new authorities.KeyVaultAdmin(azure, (await azure.addVault("kv-faults")).url);
    env = await authorities.workloadIdentity(azure, kubeInfo, ns, "unit", files);
    azure.vault("kv-faults").allow(env.AZURE_CLIENT_ID!, ["get", "set"]);
  });
  afterAll(async () => {
    await azure.stop();
  });

  /** `u` run in the namespace, with the fake Key Vault's CA and the workload identity. */
  const opts = async (u: Unit) => ({
    kubeconfig: await asUnit(kube, admin, ns, u),
    namespace: ns,
    env: { ...authorities.authorityStepEnv(bundle), ...env },
  });

  it("throttled twice (429, Retry-After 1): the step waits as told, then succeeds; the value that existed is kept", async () => {
    const human = `set-before-${randomBytes(6).toString("hex")}`;
    await vault.put("db-password", human);
    const u = gen();
    const o = await opts(u);
    const fingerprint = await untilEnsure(u, o);
    const mark = azure.mark();
    azure.throttle(2, 429, 1);
    const ensure = await runStepProcess("ensure-state", u, { ...o, fingerprint });
    expect(ensure.code).toBe(0);
    const requests = azure.requestsSince(mark);
    // Honoured: each request after a 429 came at least the Retry-After later.
    expect(requests.slice(0, 3).map((r) => r.status)).toEqual([429, 429, 401]);
    expect(requests[1]!.at - requests[0]!.at).toBeGreaterThanOrEqual(950);
    expect(requests[2]!.at - requests[1]!.at).toBeGreaterThanOrEqual(950);
    // (a) the value that existed is kept, only the absent key was set.
    expect(azure.vault("kv-faults").peek("db-password")?.value).toBe(human);
    expect(azure.writesSince(mark)).toEqual(["keyvault PUT kv-faults /secrets/api-key"]);
    expect(allText([ensure])).not.toContain(human);
    // (c), (d): the next run converges with no write at the vault.
    const again = azure.mark();
    expect(codes(await runDag(u, o))).toEqual([0, 0, 0, 0]);
    expect(azure.writesSince(again)).toEqual([]);
  });

  it("503 with Retry-After that never ends: fails naming the 503, bounded, not a tight loop, nothing written", async () => {
    const u = gen();
    const o = await opts(u);
    const fingerprint = await untilEnsure(u, o);
    const before = azure.vault("kv-faults").peek("db-password");
    const mark = azure.mark();
    azure.throttle(1_000, 503, 1);
    const started = Date.now();
    let ensure: StepRun;
    try {
      ensure = await runStepProcess("ensure-state", u, { ...o, fingerprint });
    } finally {
      azure.throttle(0, 503, 1);
    }
    expect(Date.now() - started).toBeLessThan(60_000);
    const requests = azure.requestsSince(mark);
    expectNamedFailure(ensure, ExitCode.ensureFailed, /HTTP 503/, [before!.value]);
    // Not a tight loop: the client's bounded retries, each after the Retry-After.
    expect(requests.length).toBeLessThan(10);
    for (let i = 1; i < requests.length; i++) expect(requests[i]!.at - requests[i - 1]!.at).toBeGreaterThanOrEqual(950);
    expect(azure.writesSince(mark)).toEqual([]);
    // (a) nothing changed; (c) and (d): once the vault answers, the next run converges and its rerun writes nothing.
    expect(azure.vault("kv-faults").peek("db-password")).toEqual(before);
    expect(codes(await runDag(u, o))).toEqual([0, 0, 0, 0]);
    const again = azure.mark();
    expect(codes(await runDag(u, o))).toEqual([0, 0, 0, 0]);
    expect(azure.writesSince(again)).toEqual([]);
  });
});

describe("Azure Resource Manager answers 429 and 503 with Retry-After (the fake; azure-federated-credential)", () => {
  let azure: FakeArmSetup;
  let o: { kubeconfig: string; namespace: string; env: Record<string, string> };
  const ns = "fault-arm";
  const issuer = "https://oidc.fault.example/cluster";
  const fic = () =>
    unit("fault-fic", {
      kind: "azure-federated-credential",
      with: {
        subscriptionId: azure.subscriptionId,
        resourceGroup: "platform",
        identityName: "workloads",
        name: "workloads-fault",
        issuer,
        serviceAccount: { name: "ws", namespace: "ws" },
        armEndpoint: azure.fake.url,
      },
    });
  const credentials = () => azure.fake.credentials(azure.subscriptionId, "platform", "workloads")!;

  beforeAll(async () => {
    azure = await startFakeArm();
    azure.fake.addIdentity(azure.subscriptionId, "platform", "workloads");
    // What existed before: a credential of someone else's on the same identity.
    credentials().set("kept-by-someone-else", {
      issuer: "https://other.example",
      subject: "system:serviceaccount:x:y",
      audiences: ["api://AzureADTokenExchange"],
    });
    o = { kubeconfig: await asUnit(kube, admin, ns, fic()), namespace: ns, env: azure.env() };
  });
  afterAll(() => azure?.fake.stop());

  /** validate-inputs and wait-deps, then ensure-state alone, with the fault armed just before it. */
  async function ensureUnder(
    status: 429 | 503,
    count: number,
  ): Promise<{ ensure: StepRun; requests: Array<{ status: number; at: number }> }> {
    const u = fic();
    const fingerprint = await untilEnsure(u, o);
    const mark = azure.fake.armRequests.length;
    azure.fake.throttle(count, status, 1);
    try {
      const ensure = await runStepProcess("ensure-state", u, { ...o, fingerprint });
      return { ensure, requests: azure.fake.armRequests.slice(mark) };
    } finally {
      azure.fake.throttle(0, status, 1);
    }
  }

  it("429 twice: waits as told, then creates the credential; the one that existed is kept; the rerun writes nothing", async () => {
    const { ensure, requests } = await ensureUnder(429, 2);
    expect(ensure.code).toBe(0);
    expect(requests.slice(0, 2).map((r) => r.status)).toEqual([429, 429]);
    for (let i = 1; i < 3; i++) expect(requests[i]!.at - requests[i - 1]!.at).toBeGreaterThanOrEqual(950);
    expect([...credentials().keys()].sort()).toEqual(["kept-by-someone-else", "workloads-fault"]);
    const mark = azure.fake.writes.length;
    expect(codes(await runDag(fic(), o))).toEqual([0, 0, 0, 0]);
    expect(azure.fake.writes.slice(mark)).toEqual([]);
  });

  it("503 for ever: fails naming the 503, bounded, not a tight loop, nothing written; then converges", async () => {
    credentials().delete("workloads-fault");
    const mark = azure.fake.writes.length;
    const started = Date.now();
    const { ensure, requests } = await ensureUnder(503, 1_000);
    expect(Date.now() - started).toBeLessThan(60_000);
    expectNamedFailure(ensure, ExitCode.ensureFailed, /503/, [azure.assertion]);
    expect(requests.length).toBeLessThan(10);
    for (let i = 1; i < requests.length; i++) expect(requests[i]!.at - requests[i - 1]!.at).toBeGreaterThanOrEqual(950);
    expect(azure.fake.writes.slice(mark)).toEqual([]);
    expect([...credentials().keys()]).toEqual(["kept-by-someone-else"]);
    expect(codes(await runDag(fic(), o))).toEqual([0, 0, 0, 0]);
    const again = azure.fake.writes.length;
    expect(codes(await runDag(fic(), o))).toEqual([0, 0, 0, 0]);
    expect(azure.fake.writes.slice(again)).toEqual([]);
  });
});
