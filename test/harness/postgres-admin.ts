import pg from "pg";
import type { WriteCounter } from "../conformance/cases.js";
import type { PostgresInfo } from "./postgres.js";

interface StatementRow {
  role: string;
  dbid: string;
  datname: string | null;
  queryid: string;
  toplevel: boolean;
  wal_records: string;
  query: string;
}

/** What tests do in PostgreSQL as its superuser: roles, databases, and counting writes. */
export class PostgresTestAdmin {
  constructor(readonly info: PostgresInfo) {}

  async query<R extends pg.QueryResultRow = Record<string, unknown>>(
    sql: string,
    params: unknown[] = [],
    database = "postgres",
  ): Promise<R[]> {
    const client = new pg.Client({
      host: this.info.host,
      port: this.info.port,
      user: this.info.superuser,
      password: this.info.superPassword,
      database,
    });
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  /** The role a unit connects as: a superuser of its own, so its statements are told apart. */
  async bootstrapRole(name: string, password: string): Promise<void> {
    const exists = await this.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [name]);
    await this.query(
      `${exists.length ? "ALTER" : "CREATE"} ROLE "${name}" WITH SUPERUSER LOGIN PASSWORD '${password}'`,
    );
  }

  /** A database reset: the database and its role are gone. */
  async drop(database: string, role: string): Promise<void> {
    await this.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    await this.query(`DROP ROLE IF EXISTS "${role}"`);
  }

  async canSignIn(user: string, password: string, database = "postgres"): Promise<boolean> {
    const client = new pg.Client({ host: this.info.host, port: this.info.port, user, password, database });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch (err) {
      // Refused sign-ins only (28P01 wrong password, 28000 no such role or not allowed); anything
      // else — the server down, a missing database — is a broken test, not an answer.
      if (["28P01", "28000"].includes((err as { code?: string }).code ?? "")) return false;
      throw err;
    }
  }

  private async statements(): Promise<StatementRow[]> {
    return this.query<StatementRow>(
      `SELECT s.userid::regrole::text AS role, s.dbid::text AS dbid, d.datname, s.queryid::text AS queryid, s.toplevel, s.wal_records::text AS wal_records, s.query
       FROM pg_stat_statements s LEFT JOIN pg_database d ON d.oid = s.dbid`,
    );
  }

  /**
   * Writes counted by PostgreSQL: pg_stat_statements records the WAL each statement
   * generated, and every write (DDL, DML, a role's password) generates WAL, while a read
   * generates none. A statement whose wal_records grew since the mark wrote something.
   */
  writeCounter(): WriteCounter {
    const marks: Array<Map<string, bigint>> = [];
    // Keyed by the database's oid, not its name: every database a test dropped has no name
    // (NULL), and their entries under one name key would shadow each other, in whatever
    // order the view returns them, making an old statement look new.
    const key = (r: StatementRow) => `${r.role}|${r.dbid}|${r.queryid}|${r.toplevel}`;
    return {
      mark: async () => {
        marks.push(new Map((await this.statements()).map((r) => [key(r), BigInt(r.wal_records)])));
        return marks.length - 1;
      },
      since: async (mark) =>
        (await this.statements())
          .filter((r) => BigInt(r.wal_records) > (marks[mark]!.get(key(r)) ?? 0n))
          .map((r) => `postgres ${r.role}@${r.datname ?? "?"}: ${r.query.replace(/\s+/g, " ").slice(0, 160)}`),
    };
  }
}
