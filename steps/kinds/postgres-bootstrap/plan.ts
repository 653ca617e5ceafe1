// The pure decisions of postgres-bootstrap: what exists is compared with what the unit
// says, and only the difference becomes a statement. Nothing is dropped: a role, database,
// schema or extension the unit does not list is left alone.
import { createHash } from "node:crypto";
import type { Change } from "../../core/changes.js";

export interface Step {
  /** The change the statement makes, recorded once it succeeded: never a value. */
  change: Change;
  sql: string;
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;

export interface RoleState {
  name: string;
  login: boolean;
}

export function planRole(
  want: { name: string; login: boolean },
  have: RoleState | undefined,
  verifier: string | undefined,
  passwordOk: boolean,
): Step[] {
  const pw = verifier ? ` PASSWORD '${verifier}'` : "";
  if (!have)
    return [
      {
        change: { verb: "created", object: `PostgreSQL role ${want.name}` },
        sql: `CREATE ROLE ${q(want.name)} WITH ${want.login ? "LOGIN" : "NOLOGIN"}${pw}`,
      },
    ];
  const steps: Step[] = [];
  if (have.login !== want.login)
    steps.push({
      change: { verb: "updated", object: `PostgreSQL role ${want.name}`, note: want.login ? "LOGIN" : "NOLOGIN" },
      sql: `ALTER ROLE ${q(want.name)} WITH ${want.login ? "LOGIN" : "NOLOGIN"}`,
    });
  if (verifier && !passwordOk)
    steps.push({
      change: { verb: "updated", object: `PostgreSQL role ${want.name}`, note: "password set from its input" },
      sql: `ALTER ROLE ${q(want.name)} WITH PASSWORD '${verifier}'`,
    });
  return steps;
}

export function planDatabase(want: { name: string; owner: string }, haveOwner: string | undefined): Step[] {
  if (haveOwner === undefined)
    return [
      {
        change: { verb: "created", object: `PostgreSQL database ${want.name}`, note: `owned by ${want.owner}` },
        sql: `CREATE DATABASE ${q(want.name)} OWNER ${q(want.owner)}`,
      },
    ];
  if (haveOwner !== want.owner)
    return [
      {
        change: {
          verb: "updated",
          object: `PostgreSQL database ${want.name}`,
          note: `owner ${haveOwner} -> ${want.owner}`,
        },
        sql: `ALTER DATABASE ${q(want.name)} OWNER TO ${q(want.owner)}`,
      },
    ];
  return [];
}

export function planInDatabase(
  db: {
    name: string;
    owner: string;
    extensions: string[];
    schemas: Array<{ name: string; owner?: string | undefined }>;
  },
  have: { extensions: Set<string>; schemaOwners: Map<string, string> },
): Step[] {
  const steps: Step[] = [];
  for (const ext of db.extensions.filter((e) => !have.extensions.has(e))) {
    steps.push({
      change: { verb: "created", object: `PostgreSQL extension ${ext} in database ${db.name}` },
      sql: `CREATE EXTENSION IF NOT EXISTS ${q(ext)}`,
    });
  }
  for (const s of db.schemas) {
    const owner = s.owner ?? db.owner;
    const current = have.schemaOwners.get(s.name);
    if (current === undefined)
      steps.push({
        change: { verb: "created", object: `PostgreSQL schema ${db.name}.${s.name}`, note: `owned by ${owner}` },
        sql: `CREATE SCHEMA ${q(s.name)} AUTHORIZATION ${q(owner)}`,
      });
    else if (current !== owner)
      steps.push({
        change: {
          verb: "updated",
          object: `PostgreSQL schema ${db.name}.${s.name}`,
          note: `owner ${current} -> ${owner}`,
        },
        sql: `ALTER SCHEMA ${q(s.name)} OWNER TO ${q(owner)}`,
      });
  }
  return steps;
}

export const checksum = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");

export interface SqlFile {
  name: string;
  text: string;
}

export interface LedgerEntry {
  file: string;
  checksum: string;
  appliedAt: string;
}

export interface MigrationPlan {
  apply: SqlFile[];
  /** Applied files whose text changed since: the run fails and applies nothing. */
  changed: Array<{ file: string; applied: string; appliedAt: string; now: string }>;
}

/** Files are applied in name order, each once; an applied file must never change. */
export function planMigrations(files: SqlFile[], ledger: LedgerEntry[]): MigrationPlan {
  const byFile = new Map(ledger.map((e) => [e.file, e]));
  const plan: MigrationPlan = { apply: [], changed: [] };
  for (const f of [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const entry = byFile.get(f.name);
    const sum = checksum(f.text);
    if (!entry) plan.apply.push(f);
    else if (entry.checksum !== sum)
      plan.changed.push({ file: f.name, applied: entry.checksum, appliedAt: entry.appliedAt, now: sum });
  }
  return plan;
}

/** The checksum of a seed: its files, in order, with their names. */
export function seedChecksum(files: SqlFile[]): string {
  return checksum(JSON.stringify([...files].sort((a, b) => (a.name < b.name ? -1 : 1)).map((f) => [f.name, f.text])));
}

export type SeedDecision = { run: true; reason: string } | { run: false; filesChanged: boolean };

/** A seed runs when no run with its runId is recorded; a file change alone never reruns it. */
export function planSeed(
  runId: string,
  files: SqlFile[],
  recorded: { runId: string; checksum: string } | undefined,
): SeedDecision {
  if (!recorded) return { run: true, reason: `no seed recorded yet; applying runId ${runId}` };
  if (recorded.runId !== runId) return { run: true, reason: `runId ${recorded.runId} -> ${runId}` };
  return { run: false, filesChanged: recorded.checksum !== seedChecksum(files) };
}
