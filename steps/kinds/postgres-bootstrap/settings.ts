import * as z from "zod";
import { inputValue, k8sName } from "../../core/spec.js";

// Names are restricted to plain lowercase identifiers so that what the unit says is what
// PostgreSQL stores (no case folding surprises) and every name can be quoted safely.
const identifier = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, "must be a lowercase SQL identifier (a-z, 0-9, _; at most 63)");
const extensionName = z
  .string()
  .regex(/^[a-z0-9_][-a-z0-9_]{0,62}$/, "must be an extension name such as pgcrypto or uuid-ossp");
const secretInput = z.strictObject({ input: z.string().min(1) });

export const sqlFiles = z
  .strictObject({ configMap: z.strictObject({ name: k8sName, namespace: k8sName.optional() }) })
  .describe("A ConfigMap whose keys ending in .sql are the files, applied in key order. SQL files never hold secrets.");
export type SqlFiles = z.infer<typeof sqlFiles>;

export const settings = z
  .strictObject({
    connection: z
      .strictObject({
        host: z.string().min(1),
        port: z.number().int().min(1).max(65535).default(5432),
        database: identifier
          .default("postgres")
          .describe("The database to connect to for cluster-wide work (roles, databases)."),
        user: inputValue.describe(
          "A role with CREATEROLE and CREATEDB that can act as every owner, usually the superuser.",
        ),
        password: secretInput,
        ssl: z.enum(["disable", "require", "verify-full"]).default("require"),
        caFile: z
          .string()
          .startsWith("/")
          .optional()
          .describe("CA bundle for ssl: verify-full, e.g. the CNPG cluster's ca.crt mounted in the pod."),
      })
      .refine((c) => c.ssl === "verify-full" || c.caFile === undefined, {
        message: "caFile is only used with ssl: verify-full",
        path: ["caFile"],
      }),
    roles: z
      .array(
        z
          .strictObject({
            name: identifier,
            login: z.boolean().default(true),
            password: secretInput
              .optional()
              .describe("Set when the role cannot sign in with it; the server only ever sees a SCRAM verifier."),
          })
          .refine((r) => r.login || !r.password, {
            message: "a password is only used by a role that can log in",
            path: ["password"],
          }),
      )
      .default([]),
    databases: z
      .array(
        z.strictObject({
          name: identifier,
          owner: identifier,
          extensions: z.array(extensionName).default([]),
          schemas: z
            .array(
              z.strictObject({
                name: identifier,
                owner: identifier.optional().describe("Defaults to the database owner."),
              }),
            )
            .default([]),
          migrations: sqlFiles
            .optional()
            .describe("Applied once each and recorded in reseed.applied_sql; an applied file must never change."),
          seed: z
            .strictObject({
              runId: z
                .string()
                .min(1)
                .max(63)
                .describe("Change it to apply the seed files again (P2, the dev-data case)."),
              files: sqlFiles,
            })
            .optional(),
        }),
      )
      .default([]),
  })
  .refine((s) => s.roles.length + s.databases.length > 0, "list at least one role or database");
export type Settings = z.infer<typeof settings>;
export type DatabaseSpec = Settings["databases"][number];
