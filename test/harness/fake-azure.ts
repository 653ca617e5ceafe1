// A FAKE of Microsoft Entra ID (the token endpoint of workload identity federation) and of
// Azure Key Vault's secrets REST API, for the tests. No Entra emulator exists, and no Key
// Vault emulator can be installed here (Lowkey Vault's app jar is not served by the Maven
// registry this machine reaches), so both are fakes: they follow the documented APIs
// (token endpoint v2.0 client_credentials with a federated client assertion; the Key Vault
// secrets REST API 7.0–2026-04-01: challenge-based bearer auth, set/get/update/list with
// paging, soft delete — delete, get/list deleted, recover as a long-running operation, purge —
// the 409 Conflict for a name in the deleted state, SecretNotFound for a missing secret,
// api-version required and checked per vault, several vaults on one endpoint chosen by Host,
// and an unknown vault answered 404 VaultNotFound, which is not SecretNotFound) and nothing
// more. They run inside the test process on loopback HTTPS with a CA of their own, which the
// step processes trust via NODE_EXTRA_CA_CERTS.
import { createSign, createVerify, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makePki } from "./pki.js";

export const FAKE_TENANT = "7d6c2f51-3b8a-4e0f-9c1d-5a2b8e4f6a13";
/** Vaults are https://<name>.vault.reseed.test:<port>; the resource their tokens are for, like https://vault.azure.net. */
export const KEY_VAULT_DOMAIN = "vault.reseed.test";
const KEY_VAULT_RESOURCE = `https://${KEY_VAULT_DOMAIN}`;
const EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";
const API_VERSIONS = new Set(["7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01", "2026-04-01"]);
const PAGE_SIZE = 25;

export type Permission = "get" | "set" | "list" | "delete" | "recover" | "purge";

/** A federated identity credential: which Kubernetes service-account token may act as the app. */
export interface FederatedApp {
  clientId: string;
  issuer: string;
  subject: string;
}

export interface RequestRecord {
  /** The vault the Host header named, known to the fake or not. */
  vault: string;
  method: string;
  path: string;
  /** The query string, "" or "?api-version=…&$skiptoken=…". */
  query: string;
  /** The api-version the request carried ("" if none). */
  apiVersion: string;
  status: number;
  client: string;
  /** When it was answered (epoch ms): how far apart retries came. */
  at: number;
}

interface StoredVersion {
  version: string;
  value: string;
  tags: Record<string, string>;
  contentType?: string;
  created: number;
  updated: number;
}
interface StoredSecret {
  versions: StoredVersion[];
  deleted?: number;
  /** When a recovery started at POST …/recover is over (epoch ms). */
  recoveredAt?: number;
}

export interface FakeVault {
  name: string;
  url: string;
  allow(clientId: string, permissions: Permission[]): void;
  revoke(clientId: string): void;
  /** The current value of each secret (no API call: for assertions). */
  peek(name: string): { value: string; tags: Record<string, string> } | undefined;
  names(): string[];
  /** Names in the deleted-but-recoverable state. */
  deletedNames(): string[];
}

export interface FakeAzure {
  authorityHost: string;
  caFile: string;
  tenantId: string;
  /**
   * Adds a vault to the one endpoint, https://<name>.vault.reseed.test:<port>. `apiVersions`
   * limits the versions it accepts, like a gateway or an Azure Stack Hub that lags behind.
   */
  addVault(name: string, opts?: { apiVersions?: string[] }): Promise<FakeVault>;
  vault(name: string): FakeVault;
  /** Registers an app whose federated credential trusts one Kubernetes service account. */
  federate(app: FederatedApp): void;
  /** An admin app that authenticates with a client secret, for the tests' own calls. */
  adminCredentials(): { clientId: string; clientSecret: string };
  /** Every Key Vault request answered since the mark. */
  mark(): number;
  requestsSince(mark: number): RequestRecord[];
  /** Writes (PUT/PATCH/DELETE/POST that succeeded) since the mark: "keyvault PUT source /secrets/x". */
  writesSince(mark: number): string[];
  /** Adds this many milliseconds to every Key Vault answer, like a network round trip (bench). */
  setLatency(ms: number): void;
  /** How long a recovery takes before the secret is readable again (default 1,500 ms). */
  setRecoveryDelay(ms: number): void;
  /**
   * Fault injection: the next `count` Key Vault requests are answered `status` with a
   * Retry-After of `retryAfterSeconds` (throttling, 429, or a front end busy, 503), as Key
   * Vault documents for its service limits. Recorded like any answer.
   */
  throttle(count: number, status: 429 | 503, retryAfterSeconds: number): void;
  /** Fault injection: runs `hook` before the first Key Vault request `match` accepts reaches the vault (one shot). */
  intercept(match: (method: string, path: string) => boolean, hook: () => Promise<void>): void;
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

function signJwt(claims: Record<string, unknown>, key: KeyObject, kid: string): string {
  const head = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid }));
  const body = b64url(JSON.stringify(claims));
  const sig = createSign("RSA-SHA256").update(`${head}.${body}`).sign(key);
  return `${head}.${body}.${b64url(sig)}`;
}

function decodeJwt(token: string): { claims: Record<string, unknown>; signed: string; signature: Buffer } | undefined {
  const parts = token.split(".");
  if (parts.length !== 3) return undefined;
  try {
    return {
      claims: JSON.parse(Buffer.from(parts[1]!, "base64url").toString("utf8")),
      signed: `${parts[0]}.${parts[1]}`,
      signature: Buffer.from(parts[2]!, "base64url"),
    };
  } catch {
    return undefined;
  }
}

const verifyRs256 = (signed: string, signature: Buffer, key: KeyObject) => createVerify("RSA-SHA256").update(signed).verify(key, signature);

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, payload?: unknown, headers: Record<string, string> = {}): void {
  const text = payload === undefined ? "" : JSON.stringify(payload);
  res.writeHead(status, { ...(text ? { "content-type": "application/json; charset=utf-8" } : {}), ...headers });
  res.end(text);
}

const kvError = (res: ServerResponse, status: number, code: string, message: string) => send(res, status, { error: { code, message } });

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  server.unref();
  return (server.address() as { port: number }).port;
}

/**
 * Starts the fake Entra token endpoint and fake Key Vaults on loopback. Entra checks a
 * federated assertion's signature against the issuer's published keys; the fake asks the
 * issuer itself (`reviewToken`: a Kubernetes TokenReview for the exchange audience) and
 * then matches issuer, subject and audience against the app's federated credential.
 */
export async function startFakeAzure(opts: { reviewToken: (token: string, audience: string) => Promise<boolean> }): Promise<FakeAzure> {
  const dir = await mkdtemp(join(tmpdir(), "reseed-fake-azure-"));
  const pki = await makePki(dir, { dnsNames: [`*.${KEY_VAULT_DOMAIN}`] });
  const tls = { cert: await readFile(pki.servingCert), key: await readFile(pki.servingKey) };
  const signing = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = randomBytes(8).toString("hex");
  const apps = new Map<string, FederatedApp>();
  const admin = { clientId: `admin-${randomBytes(4).toString("hex")}`, clientSecret: randomBytes(24).toString("base64url") };
  const requests: RequestRecord[] = [];
  const servers: Server[] = [];
  let latencyMs = 0;
  let throttled: { count: number; status: number; retryAfterSeconds: number } | undefined;
  const intercepts: Array<{ match: (method: string, path: string) => boolean; hook: () => Promise<void> }> = [];

  // --- the fake Entra token endpoint -------------------------------------------------------
  const entra = createServer(tls, (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", authorityHost);
      const [tenant, ...rest] = url.pathname.split("/").filter(Boolean);
      const route = rest.join("/");
      if (req.method === "GET" && route === "v2.0/.well-known/openid-configuration") {
        return send(res, 200, {
          issuer: `${authorityHost}/${tenant}/v2.0`,
          token_endpoint: `${authorityHost}/${tenant}/oauth2/v2.0/token`,
          authorization_endpoint: `${authorityHost}/${tenant}/oauth2/v2.0/authorize`,
          jwks_uri: `${authorityHost}/${tenant}/discovery/v2.0/keys`,
          response_types_supported: ["code", "id_token", "token"],
          subject_types_supported: ["pairwise"],
          id_token_signing_alg_values_supported: ["RS256"],
        });
      }
      if (req.method !== "POST" || route !== "oauth2/v2.0/token") return send(res, 404, { error: "not_found" });
      if (tenant !== FAKE_TENANT) return send(res, 400, { error: "invalid_request", error_description: `AADSTS90002: Tenant '${tenant}' not found.` });
      const form = new URLSearchParams(await body(req));
      const clientId = form.get("client_id") ?? "";
      const scope = form.get("scope") ?? "";
      if (form.get("grant_type") !== "client_credentials" || !scope.endsWith("/.default")) {
        return send(res, 400, { error: "invalid_request", error_description: "AADSTS900144: client_credentials with a /.default scope is required." });
      }
      let authenticated = false;
      if (clientId === admin.clientId) authenticated = form.get("client_secret") === admin.clientSecret;
      else {
        const app = apps.get(clientId);
        if (!app) return send(res, 400, { error: "unauthorized_client", error_description: `AADSTS700016: Application with identifier '${clientId}' was not found in the directory.` });
        const problem = await checkAssertion(form.get("client_assertion") ?? "", form.get("client_assertion_type"), app);
        if (problem) return send(res, 400, { error: "invalid_client", error_description: problem });
        authenticated = true;
      }
      if (!authenticated) return send(res, 401, { error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided." });
      const now = Math.floor(Date.now() / 1000);
      const accessToken = signJwt({ aud: scope.slice(0, -"/.default".length), iss: `${authorityHost}/${FAKE_TENANT}/v2.0`, tid: FAKE_TENANT, appid: clientId, oid: clientId, iat: now, nbf: now, exp: now + 3600 }, signing.privateKey, kid);
      send(res, 200, { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: accessToken });
    })().catch((err: unknown) => send(res, 500, { error: "server_error", error_description: String(err) }));
  });

  async function checkAssertion(assertion: string, type: string | null, app: FederatedApp): Promise<string | undefined> {
    if (type !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer") return "AADSTS700025: a jwt-bearer client assertion is required.";
    const jwt = decodeJwt(assertion);
    if (!jwt) return "AADSTS50027: JWT token is invalid or malformed.";
    if (!(await opts.reviewToken(assertion, EXCHANGE_AUDIENCE))) return "AADSTS700027: Client assertion failed signature validation.";
    const { iss, sub, aud, exp } = jwt.claims as { iss?: string; sub?: string; aud?: string | string[]; exp?: number };
    if (typeof exp !== "number" || exp * 1000 < Date.now()) return "AADSTS700024: Client assertion is not within its valid time range.";
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (iss !== app.issuer || sub !== app.subject || !audiences.includes(EXCHANGE_AUDIENCE)) {
      return `AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '${iss}'. Assertion Subject: '${sub}'. Assertion Audience: '${audiences.join(",")}'.`;
    }
    return undefined;
  }

  // --- the fake Key Vaults -----------------------------------------------------------------
  // One HTTPS endpoint serves every vault, chosen by the Host header, as a Key Vault front end
  // (or a gateway, an Azure Stack Hub, an emulator) does: a request's vault is its host name.
  const vaults = new Map<string, VaultState>();
  const handles = new Map<string, FakeVault>();
  let origin = (name: string) => name;
  let recoveryDelayMs = 1500;

  interface VaultState {
    name: string;
    secrets: Map<string, StoredSecret>;
    grants: Map<string, Set<Permission>>;
    apiVersions: Set<string>;
  }

  const handle = async (req: IncomingMessage, res: ServerResponse, record: (r: Omit<RequestRecord, "method" | "path" | "query" | "apiVersion" | "at">) => void) => {
    const host = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
    const vaultName = host.endsWith(`.${KEY_VAULT_DOMAIN}`) ? host.slice(0, -KEY_VAULT_DOMAIN.length - 1) : host;
    const url = new URL(req.url ?? "/", "https://fake.invalid");
    const method = req.method ?? "GET";
    const text = await body(req);
    // Authentication comes first, for any host: the challenge is the front end's, and
    // wait-deps probes for exactly that 401.
    const challenge = { "www-authenticate": `Bearer authorization="${authorityHost}/${FAKE_TENANT}", resource="${KEY_VAULT_RESOURCE}"` };
    const auth = req.headers.authorization;
    if (!auth?.startsWith("Bearer ")) {
      record({ vault: vaultName, status: 401, client: "" });
      return send(res, 401, { error: { code: "Unauthorized", message: "AKV10000: Request is missing a Bearer or PoP token." } }, challenge);
    }
    const jwt = decodeJwt(auth.slice("Bearer ".length));
    const claims = jwt?.claims as { aud?: string; tid?: string; appid?: string; exp?: number } | undefined;
    if (!jwt || !verifyRs256(jwt.signed, jwt.signature, signing.publicKey) || claims?.aud !== KEY_VAULT_RESOURCE || claims.tid !== FAKE_TENANT || (claims.exp ?? 0) * 1000 < Date.now()) {
      record({ vault: vaultName, status: 401, client: "" });
      return send(res, 401, { error: { code: "Unauthorized", message: "AKV10032: Invalid issuer, audience or signature." } }, challenge);
    }
    const client = claims.appid ?? "";
    const reply = (status: number, payload?: unknown) => {
      record({ vault: vaultName, status, client });
      send(res, status, payload);
    };
    const fail = (status: number, code: string, message: string) => {
      record({ vault: vaultName, status, client });
      kvError(res, status, code, message);
    };
    const vault = vaults.get(vaultName);
    // Azure itself has no such answer (an unknown vault name has no DNS record); a shared
    // endpoint does, and its code is not SecretNotFound, which is the point: a client must
    // not take it for a missing secret.
    if (!vault) return fail(404, "VaultNotFound", `The vault '${vaultName}' (host ${host}) does not exist on this endpoint.`);
    const apiVersion = url.searchParams.get("api-version");
    if (apiVersion === null) return fail(400, "BadParameter", "The 'api-version' query parameter is required.");
    if (!vault.apiVersions.has(apiVersion)) {
      return fail(400, "BadParameter", `The specified version (${apiVersion}) is not recognized. Consider using the latest supported version (${[...vault.apiVersions].at(-1)}).`);
    }
    const { secrets, grants, name } = vault;
    const here = origin(name);
    const bundle = (n: string, v: StoredVersion, withValue: boolean) => ({
      ...(withValue ? { value: v.value } : {}),
      id: `${here}/secrets/${n}/${v.version}`,
      attributes: { enabled: true, created: v.created, updated: v.updated, recoveryLevel: "Recoverable+Purgeable", recoverableDays: 90 },
      tags: v.tags,
      ...(v.contentType ? { contentType: v.contentType } : {}),
    });
    const deletedBundle = (n: string, s: StoredSecret) => ({
      ...bundle(n, s.versions.at(-1)!, false),
      recoveryId: `${here}/deletedsecrets/${n}`,
      deletedDate: s.deleted,
      scheduledPurgeDate: (s.deleted ?? 0) + 90 * 86400,
    });
    const may = (p: Permission) => client === admin.clientId || (grants.get(client)?.has(p) ?? false);
    const forbid = (p: Permission) =>
      fail(403, "Forbidden", `The user, group or application 'appid=${client};iss=${authorityHost}/${FAKE_TENANT}/v2.0' does not have secrets ${p} permission on key vault '${name};location=local'.`);
    const parts = url.pathname.split("/").filter(Boolean);
    const notFound = (n: string) => fail(404, "SecretNotFound", `A secret with (name/id) ${n} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.`);
    const deletedNotFound = (n: string) => fail(404, "SecretNotFound", `Deleted Secret not found: ${n}`);
    // A recovery in progress: the secret is neither deleted nor readable until it ends.
    const recovering = (s: StoredSecret | undefined) => s?.recoveredAt !== undefined && s.recoveredAt > Date.now();
    const live = (s: StoredSecret | undefined): s is StoredSecret => s !== undefined && s.deleted === undefined && !recovering(s);
    const page = <T>(items: T[], path: string) => {
      const max = Math.min(Number(url.searchParams.get("maxresults") ?? PAGE_SIZE) || PAGE_SIZE, PAGE_SIZE);
      const skip = Number(url.searchParams.get("$skiptoken") ?? 0);
      // Like the service, the nextLink carries the api-version of the request that made it.
      const next = skip + max < items.length ? `${here}${path}?api-version=${apiVersion}&$skiptoken=${skip + max}&maxresults=${max}` : null;
      return { value: items.slice(skip, skip + max), nextLink: next };
    };

    if (parts[0] === "secrets" && parts.length === 1 && method === "GET") {
      if (!may("list")) return forbid("list");
      const names = [...secrets.keys()].filter((n) => live(secrets.get(n))).sort();
      const { value, nextLink } = page(names, "/secrets");
      return reply(200, {
        value: value.map((n) => {
          const { id: _id, ...item } = bundle(n, secrets.get(n)!.versions.at(-1)!, false);
          return { ...item, id: `${here}/secrets/${n}` };
        }),
        nextLink,
      });
    }
    if (parts[0] === "deletedsecrets" && parts.length === 1 && method === "GET") {
      if (!may("list")) return forbid("list");
      const names = [...secrets.keys()].filter((n) => secrets.get(n)!.deleted !== undefined).sort();
      const { value, nextLink } = page(names, "/deletedsecrets");
      return reply(200, { value: value.map((n) => deletedBundle(n, secrets.get(n)!)), nextLink });
    }
    const secretName = parts[1] ?? "";
    if ((parts[0] === "secrets" || parts[0] === "deletedsecrets") && parts.length >= 2 && !/^[0-9a-zA-Z-]{1,127}$/.test(secretName)) {
      return fail(400, "BadParameter", `The request URI contains an invalid name: ${secretName}`);
    }
    const stored = secrets.get(secretName);
    if (parts[0] === "secrets" && parts.length >= 2) {
      if (method === "PUT" && parts.length === 2) {
        if (!may("set")) return forbid("set");
        if (stored?.deleted !== undefined) {
          return fail(409, "Conflict", `Secret ${secretName} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`);
        }
        if (recovering(stored)) return fail(409, "Conflict", `There was a conflict while trying to set secret ${secretName}: it is currently being recovered.`);
        const input = JSON.parse(text || "{}") as { value?: unknown; tags?: Record<string, string>; contentType?: string };
        if (typeof input.value !== "string") return fail(400, "BadParameter", "Property value is required.");
        const now = Math.floor(Date.now() / 1000);
        const version: StoredVersion = { version: randomBytes(16).toString("hex"), value: input.value, tags: input.tags ?? {}, created: now, updated: now, ...(input.contentType ? { contentType: input.contentType } : {}) };
        const s = stored ?? { versions: [] };
        s.versions.push(version);
        secrets.set(secretName, s);
        return reply(200, bundle(secretName, version, true));
      }
      if (method === "GET" && (parts.length === 2 || parts.length === 3)) {
        if (!may("get")) return forbid("get");
        if (!live(stored)) return notFound(secretName);
        const v = parts[2] ? stored.versions.find((x) => x.version === parts[2]) : stored.versions.at(-1);
        if (!v) return notFound(`${secretName}/${parts[2]}`);
        return reply(200, bundle(secretName, v, true));
      }
      if (method === "PATCH" && parts.length === 3) {
        if (!may("set")) return forbid("set");
        const v = live(stored) ? stored.versions.find((x) => x.version === parts[2] || parts[2] === "") : undefined;
        if (!v) return notFound(secretName);
        const input = JSON.parse(text || "{}") as { tags?: Record<string, string>; contentType?: string };
        if (input.tags) v.tags = input.tags;
        if (input.contentType !== undefined) v.contentType = input.contentType;
        v.updated = Math.floor(Date.now() / 1000);
        return reply(200, bundle(secretName, v, false));
      }
      if (method === "DELETE" && parts.length === 2) {
        if (!may("delete")) return forbid("delete");
        if (!live(stored)) return notFound(secretName);
        stored.deleted = Math.floor(Date.now() / 1000);
        return reply(200, deletedBundle(secretName, stored));
      }
    }
    if (parts[0] === "deletedsecrets" && parts.length === 2) {
      if (method === "GET") {
        if (!may("get")) return forbid("get");
        if (stored?.deleted === undefined) return deletedNotFound(secretName);
        return reply(200, deletedBundle(secretName, stored));
      }
      if (method === "DELETE") {
        if (!may("purge")) return forbid("purge");
        if (stored?.deleted === undefined) return deletedNotFound(secretName);
        secrets.delete(secretName);
        return reply(204);
      }
    }
    // Recover is a long-running operation: accepted at once, the secret readable (and
    // writable) only after recoveryDelayMs, answering SecretNotFound until then.
    if (parts[0] === "deletedsecrets" && parts.length === 3 && parts[2] === "recover" && method === "POST") {
      if (!may("recover")) return forbid("recover");
      if (stored?.deleted === undefined) return deletedNotFound(secretName);
      delete stored.deleted;
      stored.recoveredAt = Date.now() + recoveryDelayMs;
      return reply(200, bundle(secretName, stored.versions.at(-1)!, false));
    }
    return fail(404, "NotFound", `${method} ${url.pathname} is not an operation of this fake Key Vault.`);
  };

  const kvServer = createServer(tls, (req, res) => {
    const url = new URL(req.url ?? "/", "https://fake.invalid");
    const meta = { method: req.method ?? "GET", path: url.pathname, query: url.search, apiVersion: url.searchParams.get("api-version") ?? "" };
    const record = (r: Omit<RequestRecord, "method" | "path" | "query" | "apiVersion" | "at">) => requests.push({ ...meta, ...r, at: Date.now() });
    if (throttled && throttled.count > 0) {
      throttled.count--;
      record({ vault: (req.headers.host ?? "").split(".")[0] ?? "", status: throttled.status, client: "" });
      const code = throttled.status === 429 ? "Throttled" : "ServiceUnavailable";
      return send(res, throttled.status, { error: { code, message: `fault injected by the test: ${code}` } }, { "retry-after": String(throttled.retryAfterSeconds) });
    }
    const i = intercepts.findIndex((x) => x.match(meta.method, meta.path));
    const hook = i >= 0 ? intercepts.splice(i, 1)[0]!.hook : async () => undefined;
    const go = () => hook().then(() => handle(req, res, record)).catch((err: unknown) => kvError(res, 500, "InternalError", String(err)));
    if (latencyMs > 0) setTimeout(() => void go(), latencyMs);
    else void go();
  });
  servers.push(kvServer);
  const kvPort = await listen(kvServer);
  origin = (name: string) => `https://${name}.${KEY_VAULT_DOMAIN}:${kvPort}`;

  function addVault(name: string, opts: { apiVersions?: string[] } = {}): FakeVault {
    const state: VaultState = { name, secrets: new Map(), grants: new Map(), apiVersions: new Set(opts.apiVersions ?? API_VERSIONS) };
    vaults.set(name, state);
    const { secrets, grants } = state;
    return {
      name,
      url: origin(name),
      allow: (clientId, permissions) => grants.set(clientId, new Set([...(grants.get(clientId) ?? []), ...permissions])),
      revoke: (clientId) => grants.delete(clientId),
      peek: (n) => {
        const s = secrets.get(n);
        const v = s && s.deleted === undefined ? s.versions.at(-1) : undefined;
        return v && { value: v.value, tags: v.tags };
      },
      names: () => [...secrets.keys()].filter((n) => secrets.get(n)!.deleted === undefined).sort(),
      deletedNames: () => [...secrets.keys()].filter((n) => secrets.get(n)!.deleted !== undefined).sort(),
    };
  }

  servers.push(entra);
  const authorityHost = `https://127.0.0.1:${await listen(entra)}`;

  return {
    authorityHost,
    caFile: pki.caCert,
    tenantId: FAKE_TENANT,
    vault(name) {
      const v = handles.get(name);
      if (!v) throw new Error(`fake Key Vault ${name} was not started: call addVault("${name}") first`);
      return v;
    },
    federate: (app) => apps.set(app.clientId, app),
    adminCredentials: () => admin,
    mark: () => requests.length,
    requestsSince: (mark) => requests.slice(mark),
    writesSince: (mark) =>
      requests
        .slice(mark)
        .filter((r) => r.method !== "GET" && r.status >= 200 && r.status < 300)
        .map((r) => `keyvault ${r.method} ${r.vault} ${r.path}`),
    setLatency: (ms) => {
      latencyMs = ms;
    },
    async stop() {
      await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
      await rm(dir, { recursive: true, force: true });
    },
    async addVault(n, opts) {
      const v = addVault(n, opts);
      handles.set(n, v);
      return v;
    },
    setRecoveryDelay: (ms) => {
      recoveryDelayMs = ms;
    },
    throttle: (count, status, retryAfterSeconds) => {
      throttled = { count, status, retryAfterSeconds };
    },
    intercept: (match, hook) => {
      intercepts.push({ match, hook });
    },
  };
}
