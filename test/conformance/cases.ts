import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { inject } from "vitest";
import { startCoderServer, type CoderServer } from "../harness/coder-server.js";
import type { Admin } from "../harness/kube-admin.js";
import { KeycloakTestAdmin } from "../harness/keycloak-admin.js";
import { PostgresTestAdmin } from "../harness/postgres-admin.js";
import { startFakeArm, type FakeArmSetup } from "../harness/fake-arm.js";
import { generatedSecretAuthorityCases, secretSyncCases } from "./authority-cases.js";
import { federatedCredentialFanOutCase, secretSyncFanOutCase } from "./fan-out-cases.js";

/**
 * Counts writes at an authority other than the Kubernetes API (Vault's audit device,
 * Keycloak admin events, PostgreSQL statement counts, a loopback proxy in front of a
 * service): never counted by the code under test.
 */
export interface WriteCounter {
  mark(): Promise<number>;
  /** Human-readable descriptions of the writes since the mark, e.g. "PUT secret/data/app". */
  since(mark: number): Promise<string[]>;
  /**
   * Why this counter does not count one write per object changed, when it does not (it counts
   * SQL statements, or a sign-in and sign-out around the writes). Without it the suite holds
   * the step's recorded changes to the exact number of writes counted at the servers.
   */
  notOnePerChange?: string;
}

export interface ConformanceCase {
  /** Tells apart several cases of one kind, e.g. the store it writes to. */
  name?: string;
  /** Starts or reaches the external servers the kind needs (once per test file). */
  servers?(): Promise<void>;
  /** Stops what servers() started (after the file's last test). */
  stopServers?(): Promise<void>;
  /** Environment for the step processes: server addresses, CA bundles (never secret values). */
  stepEnv?(ns: string): Record<string, string>;
  /** Writes at the authority the kind writes to, when that is not the Kubernetes API. */
  authorityWrites?: WriteCounter;
  /** pattern, inputs and ensure of the unit; the suite adds a canary secret input. */
  spec(ns: string): {
    pattern: string;
    inputs: Record<string, unknown>;
    dependencies?: unknown[];
    ensure: { kind: string; with: Record<string, unknown> };
  };
  /** Puts the unit's inputs in place; safe to call again (each test sets up what it needs). */
  setup(admin: Admin, ns: string): Promise<void>;
  /** How to take away each required input of the kind's own (the canary is handled by the suite). */
  removeInput: Record<string, (admin: Admin, ns: string) => Promise<void>>;
  /** Loses the seeded state the way a cluster recreate or a DB reset would; a no-op when it is gone. */
  deleteState(admin: Admin, ns: string): Promise<void>;
  /** P3 only: the operator, not reseed, restores its resource; the test plays the operator. Safe to call again. */
  operatorRestores?(admin: Admin, ns: string): Promise<void>;
  /**
   * Fan-out only: makes one more target match (a namespace, a ServiceAccount) and returns the
   * writes the next run must make for it, and nothing else, as writesSince words them.
   */
  addTarget?(admin: Admin, ns: string): Promise<string[]>;
  /** Secret values the kind itself wrote, which must appear in no log, output or event. */
  writtenSecrets(admin: Admin, ns: string): Promise<string[]>;
}

const widgetCrd = {
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.conformance.reseed.dev" },
  spec: {
    group: "conformance.reseed.dev",
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        subresources: { status: {} },
        // The client serialises typed fields only: x_kubernetes_… is the model name of x-kubernetes-….
        schema: { openAPIV3Schema: { type: "object", x_kubernetes_preserve_unknown_fields: true } },
      },
    ],
  },
};

/** Deletes widget w1 if it is there: the state the operator-ready case checks. */
async function deleteWidget(admin: Admin, ns: string): Promise<void> {
  try {
    await admin.custom.deleteNamespacedCustomObject({
      group: "conformance.reseed.dev",
      version: "v1",
      namespace: ns,
      plural: "widgets",
      name: "w1",
    });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
  }
}

/** Plays the operator: widget w1, created afresh, with its Ready condition True. */
async function readyWidget(admin: Admin, ns: string): Promise<void> {
  const ref = { group: "conformance.reseed.dev", version: "v1", namespace: ns, plural: "widgets" };
  await deleteWidget(admin, ns);
  const created = (await admin.custom.createNamespacedCustomObject({
    ...ref,
    body: { apiVersion: "conformance.reseed.dev/v1", kind: "Widget", metadata: { name: "w1" } },
  })) as Record<string, unknown>;
  await admin.custom.replaceNamespacedCustomObjectStatus({
    ...ref,
    name: "w1",
    body: { ...created, status: { conditions: [{ type: "Ready", status: "True", reason: "Reconciled" }] } },
  });
}

/**
 * A fact read over HTTP with a bearer token from a file (httpJson), behind an http
 * dependency: a loopback JSON server stands in for the cluster's OIDC discovery and
 * answers only with the token. The token holds characters every encoding treats apart.
 */
function runtimeFactsOverHttpCase(): ConformanceCase {
  const token = `tok-${randomBytes(8).toString("hex")}*!'()~+/=% é-${randomBytes(8).toString("hex")}`;
  let server: http.Server | undefined;
  let url = "";
  let dir = "";
  const tokenFile = () => path.join(dir, "token");
  return {
    name: "httpJson",
    servers: async () => {
      dir = await mkdtemp(path.join(tmpdir(), "reseed-conf-http-"));
      server = http.createServer((req, res) => {
        if (req.url === "/healthz") return void res.writeHead(200).end("ok");
        if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end();
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ issuer: "https://oidc.facts.conformance.internal" }));
      });
      await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    stopServers: async () => {
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      await rm(dir, { recursive: true, force: true });
    },
    spec: () => ({
      pattern: "reconciler",
      inputs: {
        issuer: {
          httpJson: { url: `${url}/.well-known/openid-configuration`, field: "issuer", bearerTokenFile: tokenFile() },
        },
      },
      dependencies: [{ http: { url: `${url}/healthz` } }],
      ensure: {
        kind: "runtime-facts",
        with: { configMap: { name: "oidc-facts" }, facts: { oidcIssuer: { input: "issuer" } } },
      },
    }),
    setup: () => writeFile(tokenFile(), `${token}\n`),
    removeInput: { issuer: () => rm(tokenFile(), { force: true }) },
    deleteState: (admin, ns) => admin.deleteConfigMap(ns, "oidc-facts"),
    writtenSecrets: async () => [token],
  };
}

/** Keycloak generates the client secret; the unit signs in as an extractor client of its own. */
function keycloakClientSecretCase(): ConformanceCase {
  const realm = "conformance";
  const extractorSecret = `extractor-${randomBytes(12).toString("hex")}`;
  let kc: KeycloakTestAdmin | undefined;
  const keycloak = () => (kc ??= new KeycloakTestAdmin(inject("keycloak")));
  let counter: WriteCounter | undefined;
  const writes = () => (counter ??= keycloak().writeCounter([realm, "master"]));
  return {
    servers: async () => {
      await keycloak().enableAdminEvents("master");
      await keycloak().createRealm(realm);
      await keycloak().createExtractor(realm, "reseed-extractor", extractorSecret);
      await keycloak().createClient(realm, "app");
    },
    authorityWrites: { mark: () => writes().mark(), since: (m) => writes().since(m) },
    spec: () => ({
      pattern: "extraction",
      inputs: { extractorSecret: { secretKeyRef: { name: "keycloak-extractor", key: "client-secret" } } },
      ensure: {
        kind: "keycloak-client-secret",
        with: {
          url: keycloak().info.url,
          realm,
          clientId: "app",
          auth: { clientId: "reseed-extractor", clientSecret: { input: "extractorSecret" } },
          sink: { kubernetesSecret: { name: "app-oidc" } },
          clientIdKey: "client-id",
        },
      },
    }),
    setup: (admin, ns) => admin.putSecret(ns, "keycloak-extractor", { "client-secret": extractorSecret }),
    removeInput: { extractorSecret: (admin, ns) => admin.deleteSecret(ns, "keycloak-extractor") },
    deleteState: (admin, ns) => admin.deleteSecret(ns, "app-oidc"),
    writtenSecrets: async () => [await keycloak().clientSecret(realm, "app"), extractorSecret],
  };
}

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
    spec: () => ({
      pattern: "reconciler",
      inputs: {
        dbPassword: { secretKeyRef: { name: "pg-bootstrap", key: "password" } },
        appPassword: { secretKeyRef: { name: "app-db", key: "password" } },
      },
      ensure: {
        kind: "postgres-bootstrap",
        with: {
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
      },
    }),
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

/** Against the FAKE ARM and Entra endpoints (no emulator exists); the fake counts the writes. */
function azureFederatedCredentialCase(): ConformanceCase {
  let azure: FakeArmSetup | undefined;
  const removedEnv = new Set<string>();
  const fake = () => azure!.fake;
  return {
    servers: async () => {
      azure ??= await startFakeArm();
      fake().addIdentity(azure.subscriptionId, "platform", "coder-workspaces");
    },
    stepEnv: () => Object.fromEntries(Object.entries(azure!.env()).filter(([k]) => !removedEnv.has(k))),
    authorityWrites: { mark: () => fake().writeCounter().mark(), since: (m) => fake().writeCounter().since(m) },
    spec: () => ({
      pattern: "reconciler",
      inputs: { issuer: { configMapKeyRef: { name: "cluster-facts", key: "oidcIssuer" } } },
      ensure: {
        kind: "azure-federated-credential",
        with: {
          subscriptionId: azure!.subscriptionId,
          resourceGroup: "platform",
          identityName: "coder-workspaces",
          name: "conformance-workspaces",
          issuer: { input: "issuer" },
          serviceAccount: { name: "coder-workspace" },
          armEndpoint: fake().url,
        },
      },
    }),
    setup: async (admin, ns) => {
      removedEnv.clear();
      await admin.putConfigMap(ns, "cluster-facts", { oidcIssuer: "https://oidc.conformance.internal/cluster-1" });
    },
    removeInput: {
      issuer: (admin, ns) => admin.putConfigMap(ns, "cluster-facts", {}),
      "env AZURE_CLIENT_ID": async () => void removedEnv.add("AZURE_CLIENT_ID"),
      "env AZURE_TENANT_ID": async () => void removedEnv.add("AZURE_TENANT_ID"),
      "env AZURE_FEDERATED_TOKEN_FILE": async () => void removedEnv.add("AZURE_FEDERATED_TOKEN_FILE"),
    },
    deleteState: async () => {
      fake().credentials(azure!.subscriptionId, "platform", "coder-workspaces")?.delete("conformance-workspaces");
    },
    writtenSecrets: async () => [azure!.assertion, ...azure!.entra.issued()],
  };
}

// One entry per registered kind (several for a kind with several stores): the suite fails
// for a kind that has none.
export const cases: Record<string, ConformanceCase | ConformanceCase[]> = {
  "secret-sync": [...secretSyncCases, secretSyncFanOutCase()],
  "generated-secret": [
    {
      spec: () => ({
        pattern: "reconciler",
        inputs: {},
        ensure: {
          kind: "generated-secret",
          with: {
            secret: { name: "app-credentials" },
            keys: [{ name: "password" }, { name: "api-key", length: 48, charset: "base64url" }],
          },
        },
      }),
      setup: async () => {},
      removeInput: {},
      deleteState: (admin, ns) => admin.deleteSecret(ns, "app-credentials"),
      writtenSecrets: async (admin, ns) => Object.values((await admin.readSecret(ns, "app-credentials")) ?? {}),
    },
    ...generatedSecretAuthorityCases,
  ],

  "runtime-facts": [
    {
      spec: () => ({
        pattern: "reconciler",
        inputs: {
          issuer: { configMapKeyRef: { name: "infra", key: "issuer" } },
          clusterName: { value: "conformance" },
        },
        ensure: {
          kind: "runtime-facts",
          with: {
            configMap: { name: "cluster-facts" },
            facts: { oidcIssuer: { input: "issuer" }, clusterName: { input: "clusterName" }, tier: "dev" },
          },
        },
      }),
      setup: (admin, ns) => admin.putConfigMap(ns, "infra", { issuer: "https://oidc.conformance.internal" }),
      removeInput: { issuer: (admin, ns) => admin.putConfigMap(ns, "infra", {}) },
      deleteState: (admin, ns) => admin.deleteConfigMap(ns, "cluster-facts"),
      writtenSecrets: async () => [],
    },
    runtimeFactsOverHttpCase(),
  ],

  "operator-ready": {
    spec: () => ({
      pattern: "operator",
      inputs: {},
      ensure: {
        kind: "operator-ready",
        with: { resources: [{ apiVersion: "conformance.reseed.dev/v1", kind: "Widget", name: "w1" }] },
      },
    }),
    setup: async (admin, ns) => {
      try {
        await admin.crds.createCustomResourceDefinition({ body: widgetCrd });
      } catch (err) {
        if ((err as { code?: number }).code !== 409) throw err;
      }
      for (let i = 0; i < 50; i++) {
        const crd = await admin.crds.readCustomResourceDefinition({ name: widgetCrd.metadata.name });
        if (crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True")) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      await readyWidget(admin, ns);
    },
    removeInput: {},
    deleteState: deleteWidget,
    operatorRestores: readyWidget,
    writtenSecrets: async () => [],
  },

  "keycloak-client-secret": keycloakClientSecretCase(),
  "postgres-bootstrap": postgresBootstrapCase(),
  "azure-federated-credential": [azureFederatedCredentialCase(), federatedCredentialFanOutCase()],
  "coder-admin": coderAdminCase(),
};

// Coder on PostgreSQL, started once for the file; units talk to it through a counting
// proxy, so the writes counted are the requests Coder received. A "lost state" is what a
// cluster recreate does: Coder stopped, its database dropped and created empty, Coder started.
function coderAdminCase(): ConformanceCase {
  let coder: CoderServer | undefined;
  const server = () => {
    if (!coder) throw new Error("Coder is not running: servers() failed");
    return coder;
  };
  const owner = {
    email: "reseed-bootstrap@corp.internal",
    username: "reseed-bootstrap",
    password: `Pw-${randomBytes(18).toString("base64url")}`,
  };
  const bootstrapSecret = (admin: Admin, ns: string, data: Record<string, string>) =>
    admin.putSecret(ns, "coder-bootstrap-admin", data);
  const without = (key: keyof typeof owner) => (admin: Admin, ns: string) =>
    bootstrapSecret(admin, ns, Object.fromEntries(Object.entries(owner).filter(([k]) => k !== key)));
  return {
    servers: async () => {
      coder ??= await startCoderServer();
    },
    stopServers: async () => {
      await coder?.stop();
      coder = undefined;
    },
    authorityWrites: {
      mark: async () => server().writes.mark(),
      since: async (mark) => server().writes.since(mark),
      notOnePerChange: "the proxy counts every request that is not a read: signing in and out around a token is two",
    },
    spec: () => ({
      pattern: "reconciler",
      inputs: {
        ownerEmail: { secretKeyRef: { name: "coder-bootstrap-admin", key: "email" } },
        ownerUsername: { secretKeyRef: { name: "coder-bootstrap-admin", key: "username" } },
        ownerPassword: { secretKeyRef: { name: "coder-bootstrap-admin", key: "password" } },
        adminEmail: { value: "platform-admin@corp.internal" },
      },
      ensure: {
        kind: "coder-admin",
        with: {
          url: server().url,
          owner: {
            email: { input: "ownerEmail" },
            username: { input: "ownerUsername" },
            password: { input: "ownerPassword" },
          },
          admin: { email: { input: "adminEmail" }, username: "platform-admin", loginType: "oidc" },
          session: { kubernetesSecret: { name: "coder-reseed-session" } },
        },
      },
    }),
    setup: (admin, ns) => bootstrapSecret(admin, ns, owner),
    removeInput: {
      ownerEmail: without("email"),
      ownerUsername: without("username"),
      ownerPassword: without("password"),
    },
    deleteState: () => server().resetDatabase(),
    writtenSecrets: async (admin, ns) => [
      owner.password,
      ...Object.values((await admin.readSecret(ns, "coder-reseed-session")) ?? {}),
    ],
  };
}

export function casesOf(kind: string): (ConformanceCase | undefined)[] {
  const c = cases[kind];
  return c === undefined ? [undefined] : Array.isArray(c) ? c : [c];
}
