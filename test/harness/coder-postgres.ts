import { execFile } from "node:child_process";
import { constants } from "node:fs";
import { access, chmod, chown, mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { throwawayServerArgs } from "./postgres.js";
import { freePorts, ServerProcess } from "./processes.js";

const run = promisify(execFile);

/** The PostgreSQL server Coder's tests run against: one cluster, Coder's database dropped and recreated at will. */
export interface CoderPostgres {
  process: ServerProcess;
  port: number;
  connectionUrl(database: string): string;
  /** Drops (closing its connections) and creates `database`: what a cluster recreate does to Coder's data. */
  recreateDatabase(database: string): Promise<void>;
  stop(): Promise<void>;
}

export const PG_BINDIR_HINT =
  "set RESEED_CODER_PG_BINDIR to a PostgreSQL server's bin directory, or run `make coder-server` (it installs Debian's postgresql when it is missing)";

/**
 * PostgreSQL refuses to run as root (CI runs as root), so there the cluster is created and
 * run as `nobody`; elsewhere as the current user. TCP on loopback only, trust auth: the
 * data lives in a temp dir and is thrown away with it.
 */
export async function startCoderPostgres(dir: string): Promise<CoderPostgres> {
  const bindir = process.env.RESEED_CODER_PG_BINDIR;
  if (!bindir) throw new Error(`RESEED_CODER_PG_BINDIR is not set: ${PG_BINDIR_HINT}`);
  const bin = (name: string) => join(bindir, name);
  for (const name of ["initdb", "postgres", "psql", "pg_isready"]) {
    await access(bin(name), constants.X_OK).catch(() => {
      throw new Error(`missing executable ${bin(name)}: ${PG_BINDIR_HINT}`);
    });
  }
  const owner: { uid?: number; gid?: number } = process.getuid?.() === 0 ? await nobody() : {};
  const data = join(dir, "pgdata");
  await chmod(dir, 0o755);
  await mkdir(data, { mode: 0o700 });
  if (owner.uid !== undefined && owner.gid !== undefined) await chown(data, owner.uid, owner.gid);
  await run(
    bin("initdb"),
    ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"],
    owner,
  );

  const [port] = (await freePorts(1)) as [number];
  const server = new ServerProcess(
    "postgres",
    bin("postgres"),
    throwawayServerArgs(data, port),
    join(dir, "postgres.log"),
    owner,
  );
  const psql = (sql: string) =>
    run(bin("psql"), [
      "-h",
      "127.0.0.1",
      "-p",
      String(port),
      "-U",
      "postgres",
      "-d",
      "postgres",
      "-v",
      "ON_ERROR_STOP=1",
      "-qc",
      sql,
    ]);

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (server.exitReason)
      throw new Error(`postgres ${server.exitReason}; last lines of ${server.logFile}:\n${await server.logTail()}`);
    const ready = await run(bin("pg_isready"), ["-h", "127.0.0.1", "-p", String(port), "-q"]).then(
      () => true,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(
        `postgres on port ${port} was not ready within 30 s; last lines of ${server.logFile}:\n${await server.logTail()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  return {
    process: server,
    port,
    connectionUrl: (database) => `postgres://postgres@127.0.0.1:${port}/${database}?sslmode=disable`,
    async recreateDatabase(database) {
      await psql(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
      await psql(`CREATE DATABASE "${database}"`);
    },
    stop: () => server.stop(),
  };
}

async function nobody(): Promise<{ uid: number; gid: number }> {
  const line = (await readFile("/etc/passwd", "utf8")).split("\n").find((l) => l.startsWith("nobody:"));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (!uid || !gid)
    throw new Error("running as root, and there is no user `nobody` to run PostgreSQL as (it refuses root)");
  return { uid: Number(uid), gid: Number(gid) };
}
