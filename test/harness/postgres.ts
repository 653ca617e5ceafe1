import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { access, chown, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePorts, ServerProcess, startWatchdog } from "./processes.js";

const execFileAsync = promisify(execFile);

/** A running test PostgreSQL, as plain data for test files (inject("postgres")). */
export interface PostgresInfo {
  host: string;
  port: number;
  /** The bootstrap superuser; a throwaway per run. Units connect as roles the tests create. */
  superuser: string;
  superPassword: string;
  startMs: number;
}

declare module "vitest" {
  export interface ProvidedContext {
    postgres: PostgresInfo;
  }
}

/**
 * `postgres` arguments for a test server, this file's and coder-postgres.ts's alike: TCP on
 * loopback only, and no durability, since the data is thrown away after the run and
 * durability would only slow every write.
 */
export function throwawayServerArgs(data: string, port: number): string[] {
  return [
    "-D",
    data,
    "-c",
    "listen_addresses=127.0.0.1",
    "-c",
    `port=${port}`,
    "-c",
    "unix_socket_directories=",
    "-c",
    "fsync=off",
    "-c",
    "synchronous_commit=off",
    "-c",
    "full_page_writes=off",
  ];
}

const READY_TIMEOUT_MS = 60_000;
const SERVER_USER = "postgres";

// postgres refuses to run as root; CI runs as root, so the server runs as the `postgres`
// user the Debian package creates.
async function serverIdentity(): Promise<{ uid: number; gid: number } | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number((await execFileAsync("id", ["-u", SERVER_USER])).stdout.trim());
    const gid = Number((await execFileAsync("id", ["-g", SERVER_USER])).stdout.trim());
    return { uid, gid };
  } catch {
    throw new Error(
      `running as root, PostgreSQL needs the '${SERVER_USER}' user to run as: run \`make postgres\` (Debian's postgresql-15 creates it)`,
    );
  }
}

async function chownTree(path: string, id: { uid: number; gid: number }): Promise<void> {
  await chown(path, id.uid, id.gid);
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.isDirectory()) await chownTree(join(path, entry.name), id);
    else await chown(join(path, entry.name), id.uid, id.gid);
  }
}

/**
 * initdb into a temp dir and a postgres on a random loopback port, with password (SCRAM)
 * authentication over TCP and pg_stat_statements loaded: it is how the tests count the
 * statements that wrote WAL, i.e. every write, at the server.
 */
export async function startPostgres(): Promise<{
  info: PostgresInfo;
  stop(): Promise<void>;
  restart(): Promise<void>;
}> {
  const bin = process.env.RESEED_PG_BIN;
  if (!bin) {
    throw new Error(
      "RESEED_PG_BIN is not set: it names the directory of the PostgreSQL server binaries. " +
        "Run the tests through make (it sets it), or run `make postgres` and export RESEED_PG_BIN=/usr/lib/postgresql/15/bin",
    );
  }
  try {
    await access(join(bin, "postgres"));
    await access(join(bin, "initdb"));
  } catch {
    throw new Error(
      `PostgreSQL server binaries are missing in ${bin}: run \`make postgres\` (make test does it first)`,
    );
  }
  const started = Date.now();
  const identity = await serverIdentity();
  const dir = await mkdtemp(join(tmpdir(), "reseed-postgres-"));
  const data = join(dir, "data");
  const superPassword = randomBytes(12).toString("hex");
  const pwfile = join(dir, "pwfile");
  await writeFile(pwfile, superPassword, { mode: 0o600 });
  if (identity) await chownTree(dir, identity);
  const asServer = identity ? { uid: identity.uid, gid: identity.gid } : {};
  try {
    await execFileAsync(
      join(bin, "initdb"),
      [
        "-D",
        data,
        "-U",
        SERVER_USER,
        "--pwfile",
        pwfile,
        "-E",
        "UTF8",
        "--locale=C",
        "--auth-local=trust",
        "--auth-host=scram-sha-256",
        "--no-sync",
      ],
      asServer,
    );
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  }
  const [port] = (await freePorts(1)) as [number];
  const launch = () =>
    new ServerProcess(
      "postgres",
      join(bin, "postgres"),
      [
        ...throwawayServerArgs(data, port),
        "-c",
        "shared_preload_libraries=pg_stat_statements",
        "-c",
        "pg_stat_statements.track_utility=on",
      ],
      join(dir, "postgres.log"),
      asServer,
    );
  let server = launch();
  const watchdogs = [startWatchdog(server.pid ? [server.pid] : [], dir)];
  const stop = async () => {
    for (const w of watchdogs) w.disarm();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const info: PostgresInfo = { host: "127.0.0.1", port, superuser: SERVER_USER, superPassword, startMs: 0 };
  const ready = async (since: number) => {
    for (;;) {
      const reason = server.exitReason;
      if (reason) throw new Error(`postgres ${reason}:\n${await server.logTail()}`);
      if (Date.now() - since > READY_TIMEOUT_MS)
        throw new Error(
          `postgres did not accept connections within ${READY_TIMEOUT_MS / 1000} s:\n${await server.logTail()}`,
        );
      const client = new pg.Client({
        host: info.host,
        port,
        user: SERVER_USER,
        password: superPassword,
        database: "postgres",
      });
      try {
        await client.connect();
        await client.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        await client.end();
        break;
      } catch {
        await client.end().catch(() => undefined);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  };
  try {
    await ready(started);
  } catch (err) {
    await stop();
    throw err;
  }
  info.startMs = Date.now() - started;
  // As `pg_ctl restart` does it: a fast shutdown (SIGINT), which ends every session and rolls
  // back open transactions; SIGTERM would be the smart one, waiting for sessions to end.
  const restart = async () => {
    await server.stop("SIGINT");
    server = launch();
    watchdogs.push(startWatchdog(server.pid ? [server.pid] : []));
    await ready(Date.now());
  };
  return { info, stop, restart };
}
