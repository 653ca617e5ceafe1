import * as z from "./zod.js";
import { describeKeyVault, keyVaultConnection, keyVaultName } from "./key-vault-schema.js";
import { describeVault, vaultConnection } from "./vault-schema.js";
import { httpUrl } from "./url.js";

// Kubernetes object names: RFC 1123 subdomain, the rule Secret/ConfigMap names follow.
export const k8sName = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(253),
    z.regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a lowercase RFC 1123 name"),
  );

// Unit names become CronWorkflow names, which Argo caps at 52 characters.
export const unitName = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(52),
    z.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a lowercase DNS label of at most 52 characters"),
  );

const keyRef = z.strictObject({
  name: k8sName,
  key: z.string().check(z.minLength(1), z.regex(/^[-._a-zA-Z0-9]+$/, "must be a valid Secret/ConfigMap key")),
  namespace: z.optional(k8sName),
});

/** Where a secret comes from instead of a literal: the one wording lint, the schema and validate-inputs use. */
export const SECRET_SOURCES = "secretKeyRef, vault or keyVault";
export const LITERAL_SECRET = `a literal value is never secret: it would be rendered in clear into the CronWorkflow, Git and Argo CD; take the secret from ${SECRET_SOURCES}`;

const common = {
  optional: z
    .optional(z.boolean())
    .check(z.describe("A missing optional input is not an error (C1 still rejects placeholders).")),
  secret: z.optional(z.boolean()).check(z.describe("Override whether the value is treated as secret material.")),
};

export const inputRef = z.union([
  z.strictObject({ secretKeyRef: keyRef, ...common }),
  z.strictObject({ configMapKeyRef: keyRef, ...common }),
  z.strictObject({
    env: z.string().check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name")),
    ...common,
  }),
  z.strictObject({ file: z.string().check(z.startsWith("/", "must be an absolute path")), ...common }),
  z.strictObject({
    httpJson: z.strictObject({
      url: httpUrl,
      field: z.string().check(z.minLength(1), z.describe("Dot path into the JSON document, e.g. issuer or keys.0.kid")),
      caFile: z
        .optional(z.string().check(z.startsWith("/")))
        .check(z.describe("CA bundle to trust, e.g. the service-account ca.crt in a pod.")),
      bearerTokenFile: z
        .optional(z.string().check(z.startsWith("/")))
        .check(z.describe("Token sent as Bearer, e.g. the pod's service-account token.")),
    }),
    ...common,
  }),
  z.strictObject({
    value: z.string().check(z.describe("A literal non-secret value, e.g. a namespace or a URL.")),
    optional: common.optional,
    // C5: a literal is rendered into the CronWorkflow's parameters, Git and Argo CD's cache.
    // loadUnit refuses `secret: true` here naming the field (a union member refusing it
    // would only say "Invalid input"); the JSON Schema allows `false` alone, so
    // values.schema.json, helm template and an Argo CD sync refuse it too.
    secret: z.optional(z.boolean()).check(z.meta({ const: false, description: LITERAL_SECRET })),
  }),
  z.strictObject({
    vault: z.strictObject({
      ...vaultConnection,
      mount: z
        ._default(z.string().check(z.minLength(1)), "secret")
        .check(z.describe("Where the KV v2 secrets engine is mounted.")),
      path: z.string().check(z.minLength(1), z.describe("The KV v2 secret under the mount.")),
      key: z.string().check(z.minLength(1), z.describe("The key inside that secret.")),
    }),
    ...common,
  }),
  z.strictObject({
    keyVault: z.strictObject({
      ...keyVaultConnection,
      name: z.string().check(z.regex(keyVaultName, "must be a Key Vault secret name (letters, digits, dashes)")),
    }),
    ...common,
  }),
]);
export type InputRef = z.infer<typeof inputRef>;

export const httpProbe = z.strictObject({
  http: z.strictObject({
    url: httpUrl,
    expectStatus: z.optional(z.array(z.number().check(z.int(), z.minimum(100), z.maximum(599)))),
  }),
});
export const tcpProbe = z.strictObject({
  tcp: z.strictObject({
    host: z.string().check(z.minLength(1)),
    port: z.number().check(z.int(), z.minimum(1), z.maximum(65535)),
  }),
});
/**
 * The fields that name one Kubernetes object, and the resource its Role grants (pluralOf in
 * access.ts): what a kubernetes probe waits on and what operator-ready checks.
 */
export const objectReference = {
  apiVersion: z.string().check(z.minLength(1)),
  kind: z.string().check(z.minLength(1)),
  resource: z
    .optional(z.string().check(z.minLength(1)))
    .check(
      z.describe(
        "Plural resource name for RBAC; defaults to the plural Kubernetes gives the kind (Ingress: ingresses). Set it for a custom resource with an irregular plural.",
      ),
    ),
  namespace: z.optional(k8sName),
  name: k8sName,
};

export const kubernetesProbe = z.strictObject({
  kubernetes: z.strictObject({
    ...objectReference,
    condition: z
      .optional(z.string().check(z.minLength(1)))
      .check(z.describe("A status condition type that must be True; omitted means the object only has to exist.")),
  }),
});
export const vaultProbe = z.strictObject({
  vault: z.strictObject({
    address: httpUrl.check(z.describe("Ready when sys/health says initialized, unsealed and active (or standby).")),
  }),
});
export const dependency = z.union([httpProbe, tcpProbe, kubernetesProbe, vaultProbe]);
export type Dependency = z.infer<typeof dependency>;

export const patterns = ["reconciler", "hook", "operator", "extraction"] as const;
export type Pattern = (typeof patterns)[number];

export const unitSpecFields = z.strictObject({
  pattern: z
    .enum(patterns)
    .check(z.describe("reconciler (P1), hook (P2, needs runId), operator (P3, verify only), extraction (P4)")),
  managed: z
    ._default(z.boolean(), true)
    .check(z.describe("Managed environment: placeholder input values are errors, never fallbacks (C1).")),
  runId: z
    .optional(z.string().check(z.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/), z.maxLength(20)))
    .check(z.describe("Required for hook units: changing it in Git forces a deterministic rerun (P2).")),
  namespace: z.optional(k8sName).check(z.describe("Default namespace for the unit's Kubernetes references.")),
  inputs: z._default(
    z.record(
      z
        .string()
        .check(
          z.regex(
            /^[A-Za-z][A-Za-z0-9_]*$/,
            "is not an input name: input names start with a letter and hold only letters, digits and _ (no -), as kinds refer to them with { input: <name> }",
          ),
        ),
      inputRef,
    ),
    {},
  ),
  dependencies: z._default(z.array(dependency), []),
  waitTimeoutSeconds: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(3600)), 300),
  ensure: z.strictObject({
    kind: z.string().check(z.minLength(1)),
    with: z._default(z.record(z.string(), z.unknown()), {}),
  }),
});

export function requireRunIdForHooks(
  spec: { pattern: Pattern; runId?: string | undefined },
  ctx: z.core.$RefinementCtx,
): void {
  if (spec.pattern === "hook" && !spec.runId) {
    ctx.addIssue({ code: "custom", path: ["runId"], message: "hook units need a runId so Git can force a rerun (P2)" });
  }
}

export const unitSpec = unitSpecFields.check(z.superRefine(requireRunIdForHooks));

export const seedingUnit = z.strictObject({
  apiVersion: z.literal("reseed.dev/v1alpha1"),
  kind: z.literal("SeedingUnit"),
  metadata: z.strictObject({
    name: unitName,
    labels: z.optional(z.record(z.string(), z.string())),
  }),
  spec: unitSpec,
});
export type SeedingUnit = z.infer<typeof seedingUnit>;
export type UnitSpec = SeedingUnit["spec"];

/** A value in a kind's `with` block: a literal, or a reference to a declared input. */
export const inputValue = z.union([z.string(), z.strictObject({ input: z.string().check(z.minLength(1)) })]);
export type InputValue = z.infer<typeof inputValue>;

export function isSecretSource(ref: InputRef): boolean {
  if (ref.secret !== undefined) return ref.secret;
  return "secretKeyRef" in ref || "vault" in ref || "keyVault" in ref;
}

export function describeRef(ref: InputRef, defaultNamespace: string): string {
  if ("secretKeyRef" in ref)
    return `Secret ${ref.secretKeyRef.namespace ?? defaultNamespace}/${ref.secretKeyRef.name} key ${ref.secretKeyRef.key}`;
  if ("configMapKeyRef" in ref)
    return `ConfigMap ${ref.configMapKeyRef.namespace ?? defaultNamespace}/${ref.configMapKeyRef.name} key ${ref.configMapKeyRef.key}`;
  if ("env" in ref) return `environment variable ${ref.env}`;
  if ("file" in ref) return `file ${ref.file}`;
  if ("httpJson" in ref) return `field ${ref.httpJson.field} of ${ref.httpJson.url}`;
  if ("vault" in ref) return `${describeVault(ref.vault)} key ${ref.vault.key}`;
  if ("keyVault" in ref) return `${describeKeyVault(ref.keyVault)} secret ${ref.keyVault.name}`;
  return "literal value";
}
