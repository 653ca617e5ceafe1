import * as z from "zod";
import { describeKeyVault, keyVaultConnection, keyVaultName } from "./key-vault-schema.js";
import { describeVault, vaultConnection } from "./vault-schema.js";
import { httpUrl } from "./url.js";

// Kubernetes object names: RFC 1123 subdomain, the rule Secret/ConfigMap names follow.
export const k8sName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a lowercase RFC 1123 name");

// Unit names become CronWorkflow names, which Argo caps at 52 characters.
export const unitName = z
  .string()
  .min(1)
  .max(52)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a lowercase DNS label of at most 52 characters");

const keyRef = z.strictObject({
  name: k8sName,
  key: z
    .string()
    .min(1)
    .regex(/^[-._a-zA-Z0-9]+$/, "must be a valid Secret/ConfigMap key"),
  namespace: k8sName.optional(),
});

/** Where a secret comes from instead of a literal: the one wording lint, the schema and validate-inputs use. */
export const SECRET_SOURCES = "secretKeyRef, vault or keyVault";
export const LITERAL_SECRET = `a literal value is never secret: it would be rendered in clear into the CronWorkflow, Git and Argo CD; take the secret from ${SECRET_SOURCES}`;

const common = {
  optional: z
    .boolean()
    .optional()
    .describe("A missing optional input is not an error (C1 still rejects placeholders)."),
  secret: z.boolean().optional().describe("Override whether the value is treated as secret material."),
};

export const inputRef = z.union([
  z.strictObject({ secretKeyRef: keyRef, ...common }),
  z.strictObject({ configMapKeyRef: keyRef, ...common }),
  z.strictObject({
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"),
    ...common,
  }),
  z.strictObject({ file: z.string().startsWith("/", "must be an absolute path"), ...common }),
  z.strictObject({
    httpJson: z.strictObject({
      url: httpUrl,
      field: z.string().min(1).describe("Dot path into the JSON document, e.g. issuer or keys.0.kid"),
      caFile: z
        .string()
        .startsWith("/")
        .optional()
        .describe("CA bundle to trust, e.g. the service-account ca.crt in a pod."),
      bearerTokenFile: z
        .string()
        .startsWith("/")
        .optional()
        .describe("Token sent as Bearer, e.g. the pod's service-account token."),
    }),
    ...common,
  }),
  z.strictObject({
    value: z.string().describe("A literal non-secret value, e.g. a namespace or a URL."),
    optional: common.optional,
    // C5: a literal is rendered into the CronWorkflow's parameters, Git and Argo CD's cache.
    // loadUnit refuses `secret: true` here naming the field (a union member refusing it
    // would only say "Invalid input"); the JSON Schema allows `false` alone, so
    // values.schema.json, helm template and an Argo CD sync refuse it too.
    secret: z.boolean().optional().meta({ const: false, description: LITERAL_SECRET }),
  }),
  z.strictObject({
    vault: z.strictObject({
      ...vaultConnection,
      mount: z.string().min(1).default("secret").describe("Where the KV v2 secrets engine is mounted."),
      path: z.string().min(1).describe("The KV v2 secret under the mount."),
      key: z.string().min(1).describe("The key inside that secret."),
    }),
    ...common,
  }),
  z.strictObject({
    keyVault: z.strictObject({
      ...keyVaultConnection,
      name: z.string().regex(keyVaultName, "must be a Key Vault secret name (letters, digits, dashes)"),
    }),
    ...common,
  }),
]);
export type InputRef = z.infer<typeof inputRef>;

export const httpProbe = z.strictObject({
  http: z.strictObject({
    url: httpUrl,
    expectStatus: z.array(z.number().int().min(100).max(599)).optional(),
  }),
});
export const tcpProbe = z.strictObject({
  tcp: z.strictObject({ host: z.string().min(1), port: z.number().int().min(1).max(65535) }),
});
/**
 * The fields that name one Kubernetes object, and the resource its Role grants (pluralOf in
 * access.ts): what a kubernetes probe waits on and what operator-ready checks.
 */
export const objectReference = {
  apiVersion: z.string().min(1),
  kind: z.string().min(1),
  resource: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Plural resource name for RBAC; defaults to the plural Kubernetes gives the kind (Ingress: ingresses). Set it for a custom resource with an irregular plural.",
    ),
  namespace: k8sName.optional(),
  name: k8sName,
};

export const kubernetesProbe = z.strictObject({
  kubernetes: z.strictObject({
    ...objectReference,
    condition: z
      .string()
      .min(1)
      .optional()
      .describe("A status condition type that must be True; omitted means the object only has to exist."),
  }),
});
export const vaultProbe = z.strictObject({
  vault: z.strictObject({
    address: httpUrl.describe("Ready when sys/health says initialized, unsealed and active (or standby)."),
  }),
});
export const dependency = z.union([httpProbe, tcpProbe, kubernetesProbe, vaultProbe]);
export type Dependency = z.infer<typeof dependency>;

export const patterns = ["reconciler", "hook", "operator", "extraction"] as const;
export type Pattern = (typeof patterns)[number];

export const unitSpecFields = z.strictObject({
  pattern: z
    .enum(patterns)
    .describe("reconciler (P1), hook (P2, needs runId), operator (P3, verify only), extraction (P4)"),
  managed: z
    .boolean()
    .default(true)
    .describe("Managed environment: placeholder input values are errors, never fallbacks (C1)."),
  runId: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/)
    .max(20)
    .optional()
    .describe("Required for hook units: changing it in Git forces a deterministic rerun (P2)."),
  namespace: k8sName.optional().describe("Default namespace for the unit's Kubernetes references."),
  inputs: z
    .record(
      z
        .string()
        .regex(
          /^[A-Za-z][A-Za-z0-9_]*$/,
          "is not an input name: input names start with a letter and hold only letters, digits and _ (no -), as kinds refer to them with { input: <name> }",
        ),
      inputRef,
    )
    .default({}),
  dependencies: z.array(dependency).default([]),
  waitTimeoutSeconds: z.number().int().min(1).max(3600).default(300),
  ensure: z.strictObject({
    kind: z.string().min(1),
    with: z.record(z.string(), z.unknown()).default({}),
  }),
});

export function requireRunIdForHooks(
  spec: { pattern: Pattern; runId?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (spec.pattern === "hook" && !spec.runId) {
    ctx.addIssue({ code: "custom", path: ["runId"], message: "hook units need a runId so Git can force a rerun (P2)" });
  }
}

export const unitSpec = unitSpecFields.superRefine(requireRunIdForHooks);

export const seedingUnit = z.strictObject({
  apiVersion: z.literal("reseed.dev/v1alpha1"),
  kind: z.literal("SeedingUnit"),
  metadata: z.strictObject({
    name: unitName,
    labels: z.record(z.string(), z.string()).optional(),
  }),
  spec: unitSpec,
});
export type SeedingUnit = z.infer<typeof seedingUnit>;
export type UnitSpec = SeedingUnit["spec"];

/** A value in a kind's `with` block: a literal, or a reference to a declared input. */
export const inputValue = z.union([z.string(), z.strictObject({ input: z.string().min(1) })]);
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
