// Conformance case of postgres-bootstrap (test code, run by test/conformance/conformance.test.ts),
// against the real PostgreSQL, whose statement counts count the writes.
import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import { PostgresTestAdmin } from "../../../test/harness/postgres-admin.js";
import { reconciler, type ConformanceCase, type WriteCounter } from "../../../test/conformance/cases.js";

/** A role, a database with an extension, a schema, one SQL file and a seed. */
function postgresBootstrapCase(): ConformanceCase {
  const bootstrapPassword = `bootstrap-${randomBytes(12).toString("hex")}`;
  const appPassword = `app-${randomBytes(12).toString("hex")}`;
  let pgAdmin: PostgresTestAdmin | undefined;
  const postgres = () => (pgAdmin ??= new PostgresTestAdmin(inject("postgres")));
  let counter: WriteCounter | undefined;
  const writes = () => (counter ??= postgres().writeCounter());
  return {
    servers: () => postgres().bootstrapRole("conformance_bootstrap", bootstrapPassword),
    authorityWrites: {
      mark: () => writes().mark(),
      since: (m) => writes().since(m),
      notOnePerChange: "PostgreSQL counts statements: a SQL file is many, and its ledger row one more",
    },
    spec: () =>
      reconciler(
        "postgres-bootstrap",
        {
          connection: {
            host: postgres().info.host,
            port: postgres().info.port,
            user: "conformance_bootstrap",
            password: { input: "dbPassword" },
            ssl: "disable",
          },
          roles: [{ name: "conf_app", password: { input: "appPassword" } }],
          databases: [
            {
              name: "conf_app",
              owner: "conf_app",
              extensions: ["pgcrypto"],
              schemas: [{ name: "billing" }],
              migrations: { configMap: { name: "app-sql" } },
              seed: { runId: "r1", files: { configMap: { name: "app-seed" } } },
            },
          ],
        },
        {
          dbPassword: { secretKeyRef: { name: "pg-bootstrap", key: "password" } },
          appPassword: { secretKeyRef: { name: "app-db", key: "password" } },
        },
      ),
    setup: async (admin, ns) => {
      await admin.putSecret(ns, "pg-bootstrap", { password: bootstrapPassword });
      await admin.putSecret(ns, "app-db", { password: appPassword });
      await admin.putConfigMap(ns, "app-sql", {
        "001-invoices.sql":
          "CREATE TABLE billing.invoices (id bigint PRIMARY KEY, token text NOT NULL DEFAULT encode(gen_random_bytes(8), 'hex'));",
      });
      await admin.putConfigMap(ns, "app-seed", {
        "seed.sql": "INSERT INTO billing.invoices (id) VALUES (1), (2) ON CONFLICT DO NOTHING;",
      });
    },
    removeInput: {
      dbPassword: (admin, ns) => admin.deleteSecret(ns, "pg-bootstrap"),
      appPassword: (admin, ns) => admin.deleteSecret(ns, "app-db"),
    },
    deleteState: () => postgres().drop("conf_app", "conf_app"),
    writtenSecrets: async () => [bootstrapPassword, appPassword],
  };
}

export const conformance = postgresBootstrapCase();
