import type pg from "pg";
import { checksum, seedChecksum, type LedgerEntry, type SqlFile } from "./plan.js";

// The ledger lives in the database it describes, in schema `reseed`: a database restored
// from a backup carries its own record, and a database that was reset gets its files and
// seed again (C3). It is created only when there is something to record.

const LEDGER_DDL = `CREATE SCHEMA IF NOT EXISTS reseed;
CREATE TABLE IF NOT EXISTS reseed.applied_sql (
  file text PRIMARY KEY,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  unit text NOT NULL
);
CREATE TABLE IF NOT EXISTS reseed.seed_runs (
  seed text PRIMARY KEY,
  run_id text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  unit text NOT NULL
)`;

export async function ledgerExists(client: pg.Client): Promise<boolean> {
  const r = await client.query<{ ok: boolean }>(
    "SELECT to_regclass('reseed.applied_sql') IS NOT NULL AND to_regclass('reseed.seed_runs') IS NOT NULL AS ok",
  );
  return r.rows[0]!.ok;
}

export async function ensureLedger(client: pg.Client): Promise<void> {
  if (!(await ledgerExists(client))) await client.query(LEDGER_DDL);
}

export async function readApplied(client: pg.Client): Promise<LedgerEntry[]> {
  if (!(await ledgerExists(client))) return [];
  const r = await client.query<{ file: string; checksum: string; applied_at: Date }>(
    "SELECT file, checksum, applied_at FROM reseed.applied_sql ORDER BY file",
  );
  return r.rows.map((row) => ({ file: row.file, checksum: row.checksum, appliedAt: row.applied_at.toISOString() }));
}

/** Records a SQL file as applied, with the checksum planMigrations compares the file against later. */
export async function recordApplied(client: pg.Client, file: SqlFile, unit: string): Promise<void> {
  await client.query("INSERT INTO reseed.applied_sql (file, checksum, unit) VALUES ($1, $2, $3)", [
    file.name,
    checksum(file.text),
    unit,
  ]);
}

export async function readSeed(client: pg.Client): Promise<{ runId: string; checksum: string } | undefined> {
  if (!(await ledgerExists(client))) return undefined;
  const r = await client.query<{ run_id: string; checksum: string }>(
    "SELECT run_id, checksum FROM reseed.seed_runs WHERE seed = 'seed'",
  );
  const row = r.rows[0];
  return row && { runId: row.run_id, checksum: row.checksum };
}

/** Records the seed's run, with the checksum planSeed compares the files against later. */
export async function recordSeed(client: pg.Client, runId: string, files: SqlFile[], unit: string): Promise<void> {
  await client.query(
    `INSERT INTO reseed.seed_runs (seed, run_id, checksum, unit) VALUES ('seed', $1, $2, $3)
     ON CONFLICT (seed) DO UPDATE SET run_id = excluded.run_id, checksum = excluded.checksum, unit = excluded.unit, applied_at = now()`,
    [runId, seedChecksum(files), unit],
  );
}
