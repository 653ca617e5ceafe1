import type pg from "pg";
import { describeChange } from "../../core/changes.js";
import { defineKind, seedingPatterns, type Check, type KindContext } from "../kind.js";
import type { Dependency } from "../../core/spec.js";
import { ensureLedger, readApplied, readSeed, recordApplied, recordSeed } from "./ledger.js";
import {
  planDatabase,
  planInDatabase,
  planMigrations,
  planRole,
  planSeed,
  type RoleState,
  type SqlFile,
  type Step,
} from "./plan.js";
import { canSignIn, inTransaction, withClient, type Connection } from "./postgres.js";
import { scramVerifier } from "./scram.js";
import { settings, type DatabaseSpec, type Settings } from "./settings.js";
import { readSqlFiles, sqlFilesAccess, sqlFilesDependency } from "./sql-files.js";

function connectionOf(ctx: KindContext, s: Settings): Connection {
  const c = s.connection;
  return {
    host: c.host,
    port: c.port,
    user: ctx.value(c.user),
    password: ctx.value(c.password),
    ssl: c.ssl,
    caFile: c.caFile,
    applicationName: `reseed/${ctx.unit.metadata.name}`,
  };
}

const sqlSources = (s: Settings) =>
  s.databases.flatMap((d) => [...(d.migrations ? [d.migrations] : []), ...(d.seed ? [d.seed.files] : [])]);

/** The unit's roles as they are, by name: absent ones are missing from the map. */
async function rolesState(client: pg.Client, s: Settings): Promise<Map<string, RoleState>> {
  const r = await client.query<{ rolname: string; rolcanlogin: boolean }>(
    "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = ANY($1)",
    [s.roles.map((role) => role.name)],
  );
  return new Map(r.rows.map((row) => [row.rolname, { name: row.rolname, login: row.rolcanlogin }]));
}

/** The owners of the unit's databases that exist, by database name. */
async function databaseOwners(client: pg.Client, s: Settings): Promise<Map<string, string>> {
  const r = await client.query<{ datname: string; owner: string }>(
    "SELECT datname, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = ANY($1)",
    [s.databases.map((d) => d.name)],
  );
  return new Map(r.rows.map((row) => [row.datname, row.owner]));
}

async function inDatabaseState(
  client: pg.Client,
): Promise<{ extensions: Set<string>; schemaOwners: Map<string, string> }> {
  const ext = await client.query<{ extname: string }>("SELECT extname FROM pg_extension");
  const sch = await client.query<{ nspname: string; owner: string }>(
    "SELECT nspname, pg_get_userbyid(nspowner) AS owner FROM pg_namespace",
  );
  return {
    extensions: new Set(ext.rows.map((r) => r.extname)),
    schemaOwners: new Map(sch.rows.map((r) => [r.nspname, r.owner])),
  };
}

/** Applies steps one by one, recording each as it succeeds; a failure names the step that failed. */
async function run(ctx: KindContext, client: pg.Client, steps: Step[]): Promise<void> {
  for (const step of steps) {
    try {
      await client.query(step.sql);
    } catch (err) {
      throw new Error(`not done: ${describeChange(step.change)}: ${(err as Error).message}`);
    }
    ctx.record(step.change);
  }
}

async function applyFiles(
  client: pg.Client,
  owner: string,
  files: SqlFile[],
  record: () => Promise<void>,
): Promise<void> {
  // The files run as the database owner, so what they create belongs to it, not to the
  // bootstrap role; the ledger row is written in the same transaction.
  await inTransaction(client, async () => {
    await client.query(`SET LOCAL ROLE "${owner}"`);
    for (const f of files) {
      try {
        await client.query(f.text);
      } catch (err) {
        throw new Error(`SQL file ${f.name} failed (nothing of it was applied): ${(err as Error).message}`);
      }
    }
    await client.query("RESET ROLE");
    await record();
  });
}

async function ensureDatabase(ctx: KindContext, conn: Connection, db: DatabaseSpec): Promise<void> {
  const unit = ctx.unit.metadata.name;
  const migrations = db.migrations ? await readSqlFiles(ctx, db.migrations) : [];
  const seedFiles = db.seed ? await readSqlFiles(ctx, db.seed.files) : [];
  await withClient(conn, db.name, async (client) => {
    await run(ctx, client, planInDatabase(db, await inDatabaseState(client)));

    const plan = planMigrations(migrations, await readApplied(client));
    if (plan.changed.length) {
      throw new Error(
        plan.changed
          .map(
            (c) =>
              `SQL file ${c.file} changed after it was applied to ${db.name} on ${c.appliedAt} (checksum ${c.applied.slice(0, 12)} -> ${c.now.slice(0, 12)})`,
          )
          .join("; ") + ": applied files are never re-run; restore the file and put the change in a new file",
      );
    }
    for (const f of plan.apply) {
      await ensureLedger(client);
      await applyFiles(client, db.owner, [f], () => recordApplied(client, f, unit));
      ctx.record({
        verb: "applied",
        object: `SQL file ${f.name} to PostgreSQL database ${db.name}`,
        note: "recorded in reseed.applied_sql",
      });
    }
    if (db.seed) {
      const decision = planSeed(db.seed.runId, seedFiles, await readSeed(client));
      if (decision.run) {
        await ensureLedger(client);
        await applyFiles(
          client,
          db.owner,
          [...seedFiles].sort((a, b) => (a.name < b.name ? -1 : 1)),
          () => recordSeed(client, db.seed!.runId, seedFiles, unit),
        );
        ctx.record({
          verb: "applied",
          object: `seed ${db.seed.runId} to PostgreSQL database ${db.name}`,
          note: decision.reason,
        });
      } else if (decision.filesChanged) {
        ctx.log.warn(
          { event: "seed.files-changed", database: db.name, runId: db.seed.runId },
          `the seed files of ${db.name} changed since runId ${db.seed.runId} was applied; change runId to apply them`,
        );
      }
    }
  });
}

export const postgresBootstrap = defineKind<Settings>({
  kind: "postgres-bootstrap",
  authority: "application-db",
  description:
    "Roles, databases, extensions and schemas exist; SQL files are applied once each (checksum ledger); a seed reruns only when its runId changes.",
  patterns: seedingPatterns,
  spec: settings,
  inputs: [
    { path: ["connection", "user"] },
    { path: ["connection", "password"], mustBe: "secret" },
    { path: ["roles", "*", "password"], mustBe: "secret" },
  ],
  dependencies: (s, ns): Dependency[] => [
    { tcp: { host: s.connection.host, port: s.connection.port } },
    ...sqlSources(s).map((f) => sqlFilesDependency(f, ns)),
  ],
  access: [...sqlFilesAccess(["databases", "*", "migrations"]), ...sqlFilesAccess(["databases", "*", "seed", "files"])],

  async ensure(ctx, s): Promise<void> {
    const conn = connectionOf(ctx, s);
    const maintenance = s.connection.database;
    await withClient(conn, maintenance, async (client) => {
      const roles = await rolesState(client, s);
      for (const role of s.roles) {
        const have = roles.get(role.name);
        const password = role.password ? ctx.value(role.password) : undefined;
        const passwordOk =
          password !== undefined && have?.login === true && (await canSignIn(conn, maintenance, role.name, password));
        const verifier = password !== undefined && !passwordOk ? scramVerifier(password) : undefined;
        if (verifier) ctx.redactor.register(verifier);
        await run(ctx, client, planRole(role, have, verifier, passwordOk));
      }
      const owners = await databaseOwners(client, s);
      for (const db of s.databases) await run(ctx, client, planDatabase(db, owners.get(db.name)));
    });
    for (const db of s.databases) await ensureDatabase(ctx, conn, db);
  },

  async verify(ctx, s): Promise<Check[]> {
    const conn = connectionOf(ctx, s);
    const maintenance = s.connection.database;
    const checks: Check[] = [];
    await withClient(conn, maintenance, async (client) => {
      const roles = await rolesState(client, s);
      for (const role of s.roles) {
        const have = roles.get(role.name);
        checks.push({
          name: `role ${role.name}`,
          ok: have?.login === role.login,
          detail: !have
            ? "does not exist"
            : have.login === role.login
              ? role.login
                ? "can log in"
                : "cannot log in"
              : `login is ${have.login}, want ${role.login}`,
        });
        if (role.password && have?.login) {
          const ok = await canSignIn(conn, maintenance, role.name, ctx.value(role.password));
          checks.push({
            name: `role ${role.name} password`,
            ok,
            detail: ok ? "signs in with the input's password" : "the input's password is refused",
          });
        }
      }
      const owners = await databaseOwners(client, s);
      for (const db of s.databases) {
        const owner = owners.get(db.name);
        checks.push({
          name: `database ${db.name}`,
          ok: owner === db.owner,
          detail: owner === undefined ? "does not exist" : `owned by ${owner}`,
        });
      }
    });
    for (const db of s.databases.filter((d) => checks.find((c) => c.name === `database ${d.name}`)?.ok)) {
      const migrations = db.migrations ? await readSqlFiles(ctx, db.migrations) : [];
      await withClient(conn, db.name, async (client) => {
        const missing = planInDatabase(db, await inDatabaseState(client));
        checks.push({
          name: `database ${db.name} extensions and schemas`,
          ok: !missing.length,
          detail: missing.length
            ? missing
                .map(({ change: c }) => `${c.object} ${c.verb === "created" ? "is missing" : `differs: ${c.note}`}`)
                .join("; ")
            : "present",
        });
        if (db.migrations) {
          const plan = planMigrations(migrations, await readApplied(client));
          const ok = !plan.apply.length && !plan.changed.length;
          checks.push({
            name: `database ${db.name} SQL files`,
            ok,
            detail: ok
              ? `${migrations.length} applied`
              : [
                  ...plan.apply.map((f) => `${f.name} not applied`),
                  ...plan.changed.map((c) => `${c.file} changed after it was applied`),
                ].join("; "),
          });
        }
        if (db.seed) {
          const recorded = await readSeed(client);
          const ok = recorded?.runId === db.seed.runId;
          checks.push({
            name: `database ${db.name} seed`,
            ok,
            detail: ok
              ? `runId ${db.seed.runId} applied`
              : `runId ${recorded?.runId ?? "none"} recorded, want ${db.seed.runId}`,
          });
        }
      });
    }
    return checks;
  },
});
