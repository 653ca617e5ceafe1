// postgres-bootstrap against a real PostgreSQL: what exists is left alone, drift is
// corrected, SQL files run once each and a changed applied file fails loudly, the seed
// reruns only for a new runId. Writes are counted by PostgreSQL (pg_stat_statements WAL).
import { randomBytes } from "node:crypto";
import { beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { ExitCode } from "../../steps/core/errors.js";
import { unitPermissions } from "../../steps/runtime/permissions.js";
import { loadUnit } from "../../steps/runtime/unit.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";
import { connectKube } from "../harness/kube.js";
import { Admin } from "../harness/kube-admin.js";
import { PostgresTestAdmin } from "../harness/postgres-admin.js";
import { allText, lastLine, runDag } from "../harness/steps.js";

const registry = await loadKinds(kinds);

const kube = connectKube(inject("kube"));
const admin = new Admin(kube.adminKubeconfig);
const db = new PostgresTestAdmin(inject("postgres"));
const ns = "kind-postgres";
const bootstrapPassword = `bootstrap-${randomBytes(12).toString("hex")}`;
const appPassword = `app-${randomBytes(12).toString("hex")}`;
const counter = db.writeCounter();

function unit(runId = "2026-01-21") {
  return {
    apiVersion: "reseed.dev/v1alpha1",
    kind: "SeedingUnit",
    metadata: { name: "platform-db" },
    spec: {
      pattern: "reconciler",
      inputs: {
        dbUser: { secretKeyRef: { name: "pg-bootstrap", key: "username" } },
        dbPassword: { secretKeyRef: { name: "pg-bootstrap", key: "password" } },
        appPassword: { secretKeyRef: { name: "temporal-db", key: "password" } },
      },
      ensure: {
        kind: "postgres-bootstrap",
        with: {
          connection: {
            host: db.info.host,
            port: db.info.port,
            user: { input: "dbUser" },
            password: { input: "dbPassword" },
            ssl: "disable",
          },
          roles: [
            { name: "temporal", password: { input: "appPassword" } },
            { name: "readers", login: false },
          ],
          databases: [
            {
              name: "temporal",
              owner: "temporal",
              extensions: ["citext"],
              schemas: [{ name: "visibility" }, { name: "reporting", owner: "readers" }],
              migrations: { configMap: { name: "temporal-sql" } },
              seed: { runId, files: { configMap: { name: "temporal-seed" } } },
            },
          ],
        },
      },
    },
  };
}

let opts: { kubeconfig: string; namespace: string };

async function counted<T>(fn: () => Promise<T>): Promise<{ result: T; writes: string[] }> {
  const mark = await counter.mark();
  const result = await fn();
  return { result, writes: await counter.since(mark) };
}

const seedRows = async () =>
  Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM visibility.namespaces", [], "temporal"))[0]!.n);

beforeAll(async () => {
  await db.bootstrapRole("platform_bootstrap", bootstrapPassword);
  await admin.namespace(ns);
  await admin.putSecret(ns, "pg-bootstrap", { username: "platform_bootstrap", password: bootstrapPassword });
  await admin.putSecret(ns, "temporal-db", { password: appPassword });
  opts = { kubeconfig: await kube.kubeconfigFor(ns, "unit"), namespace: ns };
  await admin.grant(ns, "unit", unitPermissions(loadUnit(unit(), registry), ns));
});

// Every test starts from an empty server and the original SQL files: nothing a test changes
// (a file, the seed, a password, a dropped database) reaches the next one.
const sqlFiles = {
  "001-namespaces.sql":
    "CREATE TABLE visibility.namespaces (name citext PRIMARY KEY, created timestamptz NOT NULL DEFAULT now());",
  README: "keys not ending in .sql are ignored",
};
const seedFiles = {
  "10-dev.sql": "INSERT INTO visibility.namespaces (name) VALUES ('dev'), ('Dev-Tools') ON CONFLICT DO NOTHING;",
};
beforeEach(async () => {
  await db.drop("temporal", "temporal");
  await admin.putConfigMap(ns, "temporal-sql", sqlFiles);
  await admin.putConfigMap(ns, "temporal-seed", seedFiles);
});

/** The unit run once to its verified state: where a test that changes something starts. */
async function bootstrapped(runId?: string): Promise<void> {
  expect((await runDag(unit(runId), opts)).map((r) => r.code)).toEqual([0, 0, 0, 0]);
}

describe("postgres-bootstrap", () => {
  it("creates roles, database, extension, schemas, applies the SQL file and the seed; a rerun writes nothing", async () => {
    const first = await counted(() => runDag(unit(), opts));
    expect(first.result.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(first.result[2]!.outputs.action).toBe("created");
    expect(first.writes.length).toBeGreaterThan(5);
    expect(await db.canSignIn("temporal", appPassword, "temporal")).toBe(true);
    const [table] = await db.query<{ owner: string }>(
      "SELECT tableowner AS owner FROM pg_tables WHERE schemaname = 'visibility' AND tablename = 'namespaces'",
      [],
      "temporal",
    );
    expect(table?.owner).toBe("temporal");
    expect(await seedRows()).toBe(2);
    const [schema] = await db.query<{ owner: string }>(
      "SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'reporting'",
      [],
      "temporal",
    );
    expect(schema?.owner).toBe("readers");

    const again = await counted(() => runDag(unit(), opts));
    expect(again.result.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(again.result[2]!.outputs.action).toBe("unchanged");
    expect(again.writes).toEqual([]);
  });

  it("sends the server a SCRAM verifier, never the password, and corrects password and owner drift", async () => {
    await bootstrapped();
    await db.query(`ALTER ROLE temporal WITH PASSWORD 'changed-by-hand'`);
    await db.query("ALTER SCHEMA visibility OWNER TO readers", [], "temporal");
    const run = await counted(() => runDag(unit(), opts));
    expect(run.result.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(run.result[2]!.outputs.action).toBe("updated");
    expect(lastLine(run.result[2]!).changes).toEqual([
      "updated PostgreSQL role temporal (password set from its input)",
      "updated PostgreSQL schema temporal.visibility (owner readers -> temporal)",
    ]);
    expect(run.writes).toHaveLength(2);
    expect(await db.canSignIn("temporal", appPassword, "temporal")).toBe(true);
    const texts = await db.query<{ query: string }>("SELECT query FROM pg_stat_statements");
    expect(texts.map((t) => t.query).join("\n")).not.toContain(appPassword);
    expect(texts.some((t) => t.query.includes("SCRAM-SHA-256$4096:"))).toBe(true);
    expect(allText(run.result)).not.toMatch(/SCRAM-SHA-256\$4096:/);
  });

  it("applies a new SQL file once, then fails loudly, applying nothing, when an applied file changes", async () => {
    await bootstrapped();
    const files = (await admin.readConfigMap(ns, "temporal-sql"))!;
    await admin.putConfigMap(ns, "temporal-sql", {
      ...files,
      "002-index.sql": "CREATE INDEX namespaces_created ON visibility.namespaces (created);",
    });
    const added = await counted(() => runDag(unit(), opts));
    expect(added.result[2]!.outputs.action).toBe("updated");
    expect(lastLine(added.result[2]!).changes).toEqual([
      "applied SQL file 002-index.sql to PostgreSQL database temporal (recorded in reseed.applied_sql)",
    ]);
    expect((await runDag(unit(), opts))[2]!.outputs.action).toBe("unchanged");

    await admin.putConfigMap(ns, "temporal-sql", {
      ...files,
      "001-namespaces.sql": "CREATE TABLE visibility.namespaces (name text PRIMARY KEY);",
      "002-index.sql": "CREATE INDEX namespaces_created ON visibility.namespaces (created);",
      "003-more.sql": "CREATE TABLE visibility.more (id int);",
    });
    const changed = await counted(() => runDag(unit(), opts));
    expect(changed.result.map((r) => r.code)).toEqual([0, 0, ExitCode.ensureFailed]);
    expect(changed.result[2]!.stdout).toContain("SQL file 001-namespaces.sql changed after it was applied to temporal");
    expect(changed.writes).toEqual([]);
    expect(await db.query("SELECT to_regclass('visibility.more') AS t", [], "temporal")).toEqual([{ t: null }]);
  });

  it("a failing SQL file leaves nothing behind and names the file, and the evidence names what the run wrote before it", async () => {
    await bootstrapped();
    const files = (await admin.readConfigMap(ns, "temporal-sql"))!;
    await admin.putConfigMap(ns, "temporal-sql", {
      ...files,
      "003-broken.sql": "CREATE TABLE visibility.half (id int); SELECT no_such_function();",
    });
    // Drift the run corrects first, so it writes (the password) before the file fails.
    await db.query(`ALTER ROLE temporal WITH PASSWORD 'changed-by-hand'`);
    const runs = await runDag(unit(), opts);
    expect(runs[2]!.code).toBe(ExitCode.ensureFailed);
    expect(runs[2]!.stdout).toContain("SQL file 003-broken.sql failed (nothing of it was applied)");
    const summary = lastLine(runs[2]!);
    expect(summary).toMatchObject({
      result: "failed",
      changes: ["updated PostgreSQL role temporal (password set from its input)"],
    });
    expect(summary.msg).toContain("written before the failure: updated PostgreSQL role temporal");
    expect(runs[2]!.outputs.summary).toContain("updated PostgreSQL role temporal (password set from its input)");
    expect(await db.canSignIn("temporal", appPassword, "temporal")).toBe(true);
    expect(await db.query("SELECT to_regclass('visibility.half') AS t", [], "temporal")).toEqual([{ t: null }]);
  });

  it("reruns the seed only when its runId changes", async () => {
    await bootstrapped();
    await db.query("DELETE FROM visibility.namespaces", [], "temporal");
    const files = (await admin.readConfigMap(ns, "temporal-seed"))!;
    await admin.putConfigMap(ns, "temporal-seed", { "10-dev.sql": `${files["10-dev.sql"]}\n-- edited` });
    const same = await counted(() => runDag(unit(), opts));
    expect(same.result[2]!.outputs.action).toBe("unchanged");
    expect(same.result[2]!.stdout).toContain("change runId to apply them");
    expect(same.writes).toEqual([]);
    expect(await seedRows()).toBe(0);

    const next = await runDag(unit("2026-02-01"), opts);
    expect(next[2]!.outputs.action).toBe("updated");
    expect(next[2]!.stdout).toContain(
      "applied seed 2026-02-01 to PostgreSQL database temporal (runId 2026-01-21 -> 2026-02-01)",
    );
    expect(await seedRows()).toBe(2);
    expect((await runDag(unit("2026-02-01"), opts))[2]!.outputs.action).toBe("unchanged");
  });

  it("after a database reset everything comes back, the SQL files and the seed included (C3)", async () => {
    await bootstrapped("2026-02-01");
    await db.drop("temporal", "temporal");
    const runs = await runDag(unit("2026-02-01"), opts);
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(runs[2]!.outputs.action).toBe("created");
    expect(await seedRows()).toBe(2);
  });
});
