import { readFile } from "node:fs/promises";
import type pg from "pg";

// The PostgreSQL side through `pg`: one client per database, closed after use.

export interface Connection {
  host: string;
  port: number;
  user: string;
  password: string;
  ssl: "disable" | "require" | "verify-full";
  caFile?: string | undefined;
  applicationName: string;
}

const TIMEOUT_MS = 10_000;

async function sslOption(c: Connection): Promise<pg.ClientConfig["ssl"]> {
  if (c.ssl === "disable") return false;
  // libpq's sslmode=require: encrypted, server not verified.
  if (c.ssl === "require") return { rejectUnauthorized: false };
  return { rejectUnauthorized: true, ...(c.caFile ? { ca: await readFile(c.caFile, "utf8") } : {}) };
}

export async function connect(
  c: Connection,
  database: string,
  as?: { user: string; password: string },
): Promise<pg.Client> {
  // Loaded at the first connection, not with the kind: validate-inputs and wait-deps of a
  // unit start sooner and smaller without the driver.
  const { default: driver } = await import("pg");
  const client = new driver.Client({
    host: c.host,
    port: c.port,
    user: as?.user ?? c.user,
    password: as?.password ?? c.password,
    database,
    ssl: await sslOption(c),
    application_name: c.applicationName,
    connectionTimeoutMillis: TIMEOUT_MS,
    statement_timeout: 5 * 60_000,
  });
  // An 'error' event without a listener would crash the step; the failing query reports it.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  return client;
}

/**
 * Whether a role signs in with this password: the only check that needs no superuser and
 * writes nothing. Refused credentials (28P01) mean the password differs.
 */
export async function canSignIn(c: Connection, database: string, user: string, password: string): Promise<boolean> {
  try {
    const client = await connect(c, database, { user, password });
    await client.end();
    return true;
  } catch (err) {
    if ((err as { code?: unknown }).code === "28P01") return false;
    throw new Error(`cannot check the password of role ${user}: ${(err as Error).message}`);
  }
}

export async function withClient<T>(
  c: Connection,
  database: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = await connect(c, database);
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Runs fn in one transaction: all of it or nothing. */
export async function inTransaction(client: pg.Client, fn: () => Promise<void>): Promise<void> {
  await client.query("BEGIN");
  try {
    await fn();
    await client.query("COMMIT");
  } catch (err) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw err;
  }
}
