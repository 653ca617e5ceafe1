// The chart against every kind and every store a kind can name: the Roles it renders are the
// rules the steps derive (steps/runtime/permissions.ts) from the same access declarations, and a
// literal value where a kind takes a secret input fails helm template (C5) the way it fails
// lint. Both come from _kinds.tpl, generated from steps/kinds; this file proves the chart's
// reading of it equals the steps' reading, for every kind × store variant.
import { beforeAll, describe, expect, it } from "vitest";
import * as z from "zod";
import { inputUses } from "../../steps/core/access.js";
import { unitPermissions } from "../../steps/runtime/permissions.js";
import type { SeedError } from "../../steps/core/errors.js";
import { loadUnit } from "../../steps/runtime/unit.js";
import { unitFromValues } from "../../steps/core/values-units.js";
import { unitValues } from "../../steps/core/values.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";
import { NS, parseObjects, template, type Obj } from "../harness/helm.js";
import { chartScratch } from "../harness/chart-scratch.js";

const registry = await loadKinds(kinds);

const { valuesFile } = chartScratch("reseed-kinds-");

// One location per store, each in a namespace of its own where it has one, so a rule in the
// wrong namespace shows.
const stores = {
  kubernetesSecret: (name: string) => ({ kubernetesSecret: { name, namespace: "store-ns" } }),
  vault: (name: string) => ({
    vault: { address: "https://vault.example:8200", auth: { kubernetes: { role: "reseed" } }, path: `app/${name}` },
  }),
  keyVault: (name: string) => ({ keyVault: { url: `https://kv-${name}.vault.azure.net` } }),
};
type Store = keyof typeof stores;
const storeNames = Object.keys(stores) as Store[];

const secretRef = (name: string) => ({ secretKeyRef: { name, key: "value" } });

interface Sample {
  pattern: string;
  inputs?: Record<string, unknown>;
  with: Record<string, unknown>;
}

// A unit of every kind, in every store variant the kind can name. The keys are checked
// against the registry below: a kind without a sample fails this file.
const samples: Record<string, Record<string, Sample>> = {
  "azure-federated-credential": {
    only: {
      pattern: "reconciler",
      inputs: {
        sub: { value: "00000000-0000-0000-0000-000000000000" },
        issuer: { configMapKeyRef: { name: "cluster-facts", key: "issuer" } },
      },
      with: {
        subscriptionId: { input: "sub" },
        resourceGroup: "rg",
        identityName: "id",
        name: "fic",
        issuer: { input: "issuer" },
        serviceAccount: { name: "app" },
      },
    },
  },
  "coder-admin": Object.fromEntries(
    storeNames.map((s) => [
      s,
      {
        pattern: "reconciler",
        inputs: { pw: secretRef("coder-owner") },
        with: {
          url: "http://coder:8080",
          owner: { email: "o@example.com", username: "owner", password: { input: "pw" } },
          session: stores[s]("coder-session"),
        },
      },
    ]),
  ),
  "generated-secret": {
    kubernetesSecret: {
      pattern: "reconciler",
      with: { secret: { name: "gen", namespace: "store-ns" }, keys: [{ name: "password" }] },
    },
    vault: { pattern: "reconciler", with: { vault: stores.vault("gen").vault, keys: [{ name: "password" }] } },
    keyVault: {
      pattern: "reconciler",
      with: { keyVault: stores.keyVault("gen").keyVault, keys: [{ name: "password" }] },
    },
  },
  "keycloak-client-secret": Object.fromEntries(
    storeNames.map((s) => [
      s,
      {
        pattern: "extraction",
        inputs: { kcSecret: secretRef("kc-extractor") },
        with: {
          url: "http://keycloak:8080",
          realm: "platform",
          clientId: "grafana",
          auth: { clientId: "reseed", clientSecret: { input: "kcSecret" } },
          sink: stores[s]("grafana-oidc"),
        },
      },
    ]),
  ),
  "operator-ready": {
    only: {
      pattern: "operator",
      with: {
        resources: [
          { apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster", name: "db" },
          { apiVersion: "v1", kind: "Endpoints", name: "api", namespace: "other-ns" },
          { apiVersion: "example.dev/v1", kind: "Policy", resource: "policies", name: "p" },
        ],
      },
    },
  },
  "postgres-bootstrap": {
    only: {
      pattern: "reconciler",
      inputs: { dbPassword: secretRef("pg-superuser"), appPassword: secretRef("app-db") },
      with: {
        connection: { host: "db", user: "postgres", password: { input: "dbPassword" } },
        roles: [{ name: "app", password: { input: "appPassword" } }],
        databases: [
          {
            name: "app",
            owner: "app",
            migrations: { configMap: { name: "app-sql" } },
            seed: { runId: "r1", files: { configMap: { name: "app-seed", namespace: "seed-ns" } } },
          },
          { name: "other", owner: "app", migrations: { configMap: { name: "other-sql" } } },
        ],
      },
    },
  },
  "runtime-facts": {
    only: {
      pattern: "reconciler",
      inputs: { issuer: { value: "https://issuer.example" } },
      with: { configMap: { name: "facts", namespace: "facts-ns" }, facts: { issuer: { input: "issuer" } } },
    },
  },
  "secret-sync": Object.fromEntries(
    storeNames.flatMap((from) =>
      storeNames.map((to) => [
        `${from}-to-${to}`,
        {
          pattern: "reconciler",
          with: { from: stores[from]("source"), to: stores[to]("destination"), keys: ["k"], drift: "correct" },
        },
      ]),
    ),
  ),
};

const unitName = (kind: string, variant: string) => `${kind}-${variant}`.toLowerCase().slice(0, 52).replace(/-+$/, "");
const units = Object.entries(samples).flatMap(([kind, variants]) =>
  Object.entries(variants).map(([variant, s]) => ({
    kind,
    variant,
    name: unitName(kind, variant),
    values: { enabled: true, pattern: s.pattern, inputs: s.inputs ?? {}, ensure: { kind, with: s.with } },
  })),
);
const loaded = (u: (typeof units)[number], values: unknown = u.values) =>
  loadUnit(unitFromValues(u.name, unitValues.parse(values), NS), registry);

const rule = z.strictObject({
  apiGroups: z.array(z.string()),
  resources: z.array(z.string()),
  verbs: z.array(z.string()),
  resourceNames: z.array(z.string()).optional(),
});

/** Rules as "namespace|group|resource|verb|name" strings, one per verb and name, so merging differences do not matter. */
function grants(
  rules: {
    namespace: string;
    apiGroups: string[];
    resources: string[];
    verbs: string[];
    resourceNames?: string[] | undefined;
  }[],
): string[] {
  const out = new Set<string>();
  for (const r of rules)
    for (const g of r.apiGroups)
      for (const res of r.resources)
        for (const v of r.verbs)
          for (const n of r.resourceNames ?? ["*"]) out.add([r.namespace, g, res, v, n].join("|"));
  return [...out].sort();
}

let rendered: Obj[] = [];

beforeAll(() => {
  const r = template([valuesFile({ units: Object.fromEntries(units.map((u) => [u.name, u.values])) })]);
  if (!r.ok) throw new Error(`helm template of every kind × store failed:\n${r.err}`);
  rendered = parseObjects(r.out);
});

describe("every kind × every store renders", () => {
  it("has a sample of every registered kind, and of every store where a kind names one", () => {
    expect(Object.keys(samples).sort()).toEqual(registry.names().sort());
    for (const kind of ["coder-admin", "generated-secret", "keycloak-client-secret"])
      expect(Object.keys(samples[kind]!).sort(), kind).toEqual([...storeNames].sort());
    expect(Object.keys(samples["secret-sync"]!)).toHaveLength(storeNames.length ** 2);
  });

  it.each(units.map((u) => [u.name, u] as const))(
    "%s: the Roles are the rules the steps derive from the kind's access",
    (_name, u) => {
      const roles = rendered.filter((o) => o.kind === "Role" && o.metadata.name === `reseed-${u.name}`);
      const got = grants(
        roles.flatMap((role) =>
          z
            .array(rule)
            .parse(role.rules)
            .map((r) => ({ ...r, namespace: role.metadata.namespace ?? NS })),
        ),
      );
      expect(got).toEqual(grants(unitPermissions(loaded(u), NS)));
      expect(
        rendered.filter((o) => o.kind === "ServiceAccount" && o.metadata.name === `reseed-${u.name}`),
      ).toHaveLength(1);
    },
  );

  it("a store authorized by its own auth (Vault, Key Vault) adds no Secret rule; a Kubernetes Secret store does", () => {
    const secretRules = (name: string) =>
      grants(
        rendered
          .filter((o) => o.kind === "Role" && o.metadata.name === `reseed-${name}`)
          .flatMap((role) =>
            z
              .array(rule)
              .parse(role.rules)
              .map((r) => ({ ...r, namespace: role.metadata.namespace ?? NS })),
          ),
      ).filter((g) => g.includes("|secrets|") && !g.includes("|coder-owner"));
    expect(secretRules("coder-admin-vault")).toEqual([]);
    expect(secretRules("coder-admin-keyvault")).toEqual([]);
    expect(secretRules("coder-admin-kubernetessecret")).toEqual([
      "store-ns||secrets|create|*",
      "store-ns||secrets|get|coder-session",
      "store-ns||secrets|patch|coder-session",
      "store-ns||secrets|update|coder-session",
    ]);
  });
});

// Each secret input the samples name, as a literal instead: the chart must refuse it as lint does.
const literalCases = units
  .filter((u) => Object.keys(samples[u.kind]!)[0] === u.variant)
  .flatMap((u) => {
    const l = loaded(u);
    return inputUses(l.kind.inputs, l.settings)
      .filter((i) => i.mustBe === "secret")
      .map((i) => ({ ...u, input: i.name }));
  });

describe("a literal where a kind takes a secret input fails helm template (C5)", () => {
  it("covers every kind that declares a secret input, at every such path", () => {
    const kindsWithSecrets = registry.names().filter((k) => registry.get(k)!.inputs.some((i) => i.mustBe === "secret"));
    expect([...new Set(literalCases.map((c) => c.kind))].sort()).toEqual(kindsWithSecrets.sort());
    for (const kind of kindsWithSecrets) {
      const secretPaths = registry.get(kind)!.inputs.filter((i) => i.mustBe === "secret").length;
      expect(literalCases.filter((c) => c.kind === kind).length, kind).toBeGreaterThanOrEqual(secretPaths);
    }
  });

  it.each(literalCases.map((c) => [c.kind, c.input, c] as const))(
    "%s: input %s as a literal is refused, naming the unit, the field and where it must come from",
    (_kind, input, c) => {
      const canary = "literal-canary-Zq81x";
      const values = { ...c.values, inputs: { ...c.values.inputs, [input]: { value: canary } } };
      const r = template([valuesFile({ units: { [c.name]: values } })]);
      expect(r.ok).toBe(false);
      expect(r.err).toContain(`units.${c.name}.inputs.${input}: kind ${c.kind} takes a secret at ensure.with.`);
      expect(r.err).toContain("take the secret from secretKeyRef, vault or keyVault");
      expect(r.out + r.err).not.toContain(canary);
      // lint and validate-inputs (loadUnit) refuse the same unit, from the same declaration.
      let lint: SeedError | undefined;
      try {
        loaded(c, values);
      } catch (err) {
        lint = err as SeedError;
      }
      expect(lint?.problems?.map((p) => `${p.subject}: ${p.message}`).join("\n")).toContain(
        `spec.inputs.${input}: kind ${c.kind} takes a secret here`,
      );
    },
  );
});
