import * as z from "../../core/zod.js";
import { inputValue, k8sName } from "../../core/spec.js";

// Names are restricted to plain lowercase identifiers so that what the unit says is what
// PostgreSQL stores (no case folding surprises) and every name can be quoted safely.
const identifier = z
  .string()
  .check(z.regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lowercase SQL identifier (a-z, 0-9, _; at most 63)"));
const extensionName = z
  .string()
  .check(z.regex(/^[a-z0-9_][-a-z0-9_]{0,62}$/, "must be an extension name such as pgcrypto or uuid-ossp"));
const secretInput = z.strictObject({ input: z.string().check(z.minLength(1)) });

export const sqlFiles = z
  .strictObject({ configMap: z.strictObject({ name: k8sName, namespace: z.optional(k8sName) }) })
  .check(
    z.describe(
      "A ConfigMap whose keys ending in .sql are the files, applied in key order. SQL files never hold secrets.",
    ),
  );
export type SqlFiles = z.infer<typeof sqlFiles>;

export const settings = z
  .strictObject({
    connection: z
      .strictObject({
        host: z.string().check(z.minLength(1)),
        port: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(65535)), 5432),
        database: z
          ._default(identifier, "postgres")
          .check(z.describe("The database to connect to for cluster-wide work (roles, databases).")),
        user: inputValue.check(
          z.describe("A role with CREATEROLE and CREATEDB that can act as every owner, usually the superuser."),
        ),
        password: secretInput,
        ssl: z._default(z.enum(["disable", "require", "verify-full"]), "require"),
        caFile: z
          .optional(z.string().check(z.startsWith("/")))
          .check(z.describe("CA bundle for ssl: verify-full, e.g. the CNPG cluster's ca.crt mounted in the pod.")),
      })
      .check(
        z.refine((c) => c.ssl === "verify-full" || c.caFile === undefined, {
          message: "caFile is only used with ssl: verify-full",
          path: ["caFile"],
        }),
      ),
    roles: z._default(
      z.array(
        z
          .strictObject({
            name: identifier,
            login: z._default(z.boolean(), true),
            password: z
              .optional(secretInput)
              .check(
                z.describe("Set when the role cannot sign in with it; the server only ever sees a SCRAM verifier."),
              ),
          })
          .check(
            z.refine((r) => r.login || !r.password, {
              message: "a password is only used by a role that can log in",
              path: ["password"],
            }),
          ),
      ),
      [],
    ),
    databases: z._default(
      z.array(
        z.strictObject({
          name: identifier,
          owner: identifier,
          extensions: z._default(z.array(extensionName), []),
          schemas: z._default(
            z.array(
              z.strictObject({
                name: identifier,
                owner: z.optional(identifier).check(z.describe("Defaults to the database owner.")),
              }),
            ),
            [],
          ),
          migrations: z
            .optional(sqlFiles)
            .check(
              z.describe("Applied once each and recorded in reseed.applied_sql; an applied file must never change."),
            ),
          seed: z.optional(
            z.strictObject({
              runId: z
                .string()
                .check(
                  z.minLength(1),
                  z.maxLength(63),
                  z.describe("Change it to apply the seed files again (P2, the dev-data case)."),
                ),
              files: sqlFiles,
            }),
          ),
        }),
      ),
      [],
    ),
  })
  .check(z.refine((s) => s.roles.length + s.databases.length > 0, "list at least one role or database"));
export type Settings = z.infer<typeof settings>;
export type DatabaseSpec = Settings["databases"][number];
