import { describe, expect, it } from "vitest";
import {
  checksum,
  planDatabase,
  planInDatabase,
  planMigrations,
  planRole,
  planSeed,
  seedChecksum,
} from "../../steps/kinds/postgres-bootstrap/plan.js";
import { scramVerifier } from "../../steps/kinds/postgres-bootstrap/scram.js";
import { settings } from "../../steps/kinds/postgres-bootstrap/settings.js";

describe("postgres-bootstrap plan", () => {
  it("creates a missing role with its verifier, and leaves an equal one alone", () => {
    expect(planRole({ name: "app", login: true }, undefined, "SCRAM-SHA-256$4096:x$y:z", false)).toEqual([
      {
        change: { verb: "created", object: "PostgreSQL role app" },
        sql: `CREATE ROLE "app" WITH LOGIN PASSWORD 'SCRAM-SHA-256$4096:x$y:z'`,
      },
    ]);
    expect(planRole({ name: "app", login: true }, { name: "app", login: true }, undefined, true)).toEqual([]);
  });

  it("corrects login and password drift separately", () => {
    const steps = planRole({ name: "app", login: true }, { name: "app", login: false }, "V", false);
    expect(steps.map((s) => s.change)).toEqual([
      { verb: "updated", object: "PostgreSQL role app", note: "LOGIN" },
      { verb: "updated", object: "PostgreSQL role app", note: "password set from its input" },
    ]);
  });

  it("creates a database or corrects its owner, never drops", () => {
    expect(planDatabase({ name: "db", owner: "app" }, undefined)[0]!.sql).toBe(`CREATE DATABASE "db" OWNER "app"`);
    expect(planDatabase({ name: "db", owner: "app" }, "postgres")[0]!.sql).toBe(`ALTER DATABASE "db" OWNER TO "app"`);
    expect(planDatabase({ name: "db", owner: "app" }, "app")).toEqual([]);
  });

  it("adds missing extensions and schemas, schema owner defaulting to the database owner", () => {
    const steps = planInDatabase(
      {
        name: "db",
        owner: "app",
        extensions: ["pgcrypto", "uuid-ossp"],
        schemas: [{ name: "a" }, { name: "b", owner: "ro" }, { name: "c" }],
      },
      {
        extensions: new Set(["plpgsql", "pgcrypto"]),
        schemaOwners: new Map([
          ["a", "app"],
          ["b", "app"],
        ]),
      },
    );
    expect(steps.map((s) => s.sql)).toEqual([
      `CREATE EXTENSION IF NOT EXISTS "uuid-ossp"`,
      `ALTER SCHEMA "b" OWNER TO "ro"`,
      `CREATE SCHEMA "c" AUTHORIZATION "app"`,
    ]);
  });

  it("applies unrecorded files in name order and reports every applied file that changed", () => {
    const files = [
      { name: "002-b.sql", text: "b" },
      { name: "001-a.sql", text: "a2" },
      { name: "003-c.sql", text: "c" },
    ];
    const plan = planMigrations(files, [
      { file: "001-a.sql", checksum: checksum("a"), appliedAt: "2026-01-01T00:00:00.000Z" },
      { file: "002-b.sql", checksum: checksum("b"), appliedAt: "2026-01-01T00:00:00.000Z" },
    ]);
    expect(plan.apply.map((f) => f.name)).toEqual(["003-c.sql"]);
    expect(plan.changed).toEqual([
      { file: "001-a.sql", applied: checksum("a"), appliedAt: "2026-01-01T00:00:00.000Z", now: checksum("a2") },
    ]);
  });

  it("runs a seed once per runId; a changed file alone is only reported", () => {
    const files = [{ name: "seed.sql", text: "insert" }];
    expect(planSeed("r1", files, undefined)).toMatchObject({ run: true });
    expect(planSeed("r2", files, { runId: "r1", checksum: seedChecksum(files) })).toEqual({
      run: true,
      reason: "runId r1 -> r2",
    });
    expect(planSeed("r1", files, { runId: "r1", checksum: seedChecksum(files) })).toEqual({
      run: false,
      filesChanged: false,
    });
    expect(
      planSeed("r1", [{ name: "seed.sql", text: "insert 2" }], { runId: "r1", checksum: seedChecksum(files) }),
    ).toEqual({ run: false, filesChanged: true });
  });

  it("makes a SCRAM-SHA-256 verifier in PostgreSQL's format, salted afresh each time", () => {
    const salt = Buffer.alloc(16, 7);
    const v = scramVerifier("correct horse", salt);
    expect(v).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
    expect(scramVerifier("correct horse", salt)).toBe(v);
    expect(scramVerifier("correct horse")).not.toBe(scramVerifier("correct horse"));
  });

  it("refuses names PostgreSQL would fold or that need quoting, and a password on a NOLOGIN role", () => {
    const base = { connection: { host: "db", user: "postgres", password: { input: "pw" } } };
    expect(settings.safeParse({ ...base, roles: [{ name: "App" }] }).success).toBe(false);
    expect(
      settings.safeParse({ ...base, roles: [{ name: "ro", login: false, password: { input: "x" } }] }).success,
    ).toBe(false);
    expect(settings.safeParse({ ...base, roles: [{ name: "app" }] }).success).toBe(true);
    expect(settings.safeParse(base).success).toBe(false);
  });
});
