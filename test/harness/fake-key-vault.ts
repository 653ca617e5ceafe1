// A FAKE of Azure Key Vault's secrets REST API, for the tests: no Key Vault emulator can be
// installed without Docker or .NET (see docs/known-limits.md). It follows the documented API
// 7.0–2026-04-01: challenge-based bearer auth (tokens from the fake Entra, fake-entra.ts),
// set/get/update/list with paging, soft delete — delete, get/list deleted, recover as a
// long-running operation, purge — the 409 Conflict for a name in the deleted state,
// SecretNotFound for a missing secret, api-version required and checked per vault, several
// vaults on one endpoint chosen by Host, and an unknown vault answered 404 VaultNotFound,
// which is not SecretNotFound; and nothing more. It runs inside the test process on loopback
// HTTPS with a CA of its own, which the step processes trust via NODE_EXTRA_CA_CERTS.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FAKE_TENANT, startFakeEntra, type FakeEntra } from "./fake-entra.js";
import { makePki } from "./pki.js";

/** Vaults are https://<name>.vault.reseed.test:<port>; the resource their tokens are for, like https://vault.azure.net. */
export const KEY_VAULT_DOMAIN = "vault.reseed.test";
const KEY_VAULT_RESOURCE = `https://${KEY_VAULT_DOMAIN}`;
const API_VERSIONS = new Set(["7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01", "2026-04-01"]);
const PAGE_SIZE = 25;

export type Permission = "get" | "set" | "list" | "delete" | "recover" | "purge";

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

export interface FakeKeyVault {
  /** The tenant the vaults trust: its token endpoint issues the tokens they accept. */
  entra: FakeEntra;
  /** The CA of the vaults' (and the Entra endpoint's) serving certificates. */
  caFile: string;
  /**
   * Adds a vault to the one endpoint, https://<name>.vault.reseed.test:<port>. `apiVersions`
   * limits the versions it accepts, like a gateway or an Azure Stack Hub that lags behind.
   */
  addVault(name: string, opts?: { apiVersions?: string[] }): Promise<FakeVault>;
  vault(name: string): FakeVault;
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

const kvError = (res: ServerResponse, status: number, code: string, message: string) =>
  send(res, status, { error: { code, message } });

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  server.unref();
  return (server.address() as { port: number }).port;
}

/**
 * Starts the fake Key Vault endpoint and the fake Entra tenant it trusts, on loopback.
 * `reviewToken` is how Entra checks a workload's federated assertion (fake-entra.ts).
 */
export async function startFakeKeyVault(opts: {
  reviewToken: (token: string, audience: string) => Promise<boolean>;
}): Promise<FakeKeyVault> {
  const dir = await mkdtemp(join(tmpdir(), "reseed-fake-key-vault-"));
  const pki = await makePki(dir, { dnsNames: [`*.${KEY_VAULT_DOMAIN}`] });
  const tls = { cert: await readFile(pki.servingCert), key: await readFile(pki.servingKey) };
  const entra = await startFakeEntra({ tls, reviewToken: opts.reviewToken });
  const { authorityHost } = entra;
  const admin = entra.adminCredentials();
  const requests: RequestRecord[] = [];
  const servers: Server[] = [];
  let latencyMs = 0;
  let throttled: { count: number; status: number; retryAfterSeconds: number } | undefined;
  const intercepts: Array<{ match: (method: string, path: string) => boolean; hook: () => Promise<void> }> = [];

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

  const handle = async (
    req: IncomingMessage,
    res: ServerResponse,
    record: (r: Omit<RequestRecord, "method" | "path" | "query" | "apiVersion" | "at">) => void,
  ) => {
    const host = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
    const vaultName = host.endsWith(`.${KEY_VAULT_DOMAIN}`) ? host.slice(0, -KEY_VAULT_DOMAIN.length - 1) : host;
    const url = new URL(req.url ?? "/", "https://fake.invalid");
    const method = req.method ?? "GET";
    const text = await body(req);
    // Authentication comes first, for any host: the challenge is the front end's, and
    // wait-deps probes for exactly that 401.
    const challenge = {
      "www-authenticate": `Bearer authorization="${authorityHost}/${FAKE_TENANT}", resource="${KEY_VAULT_RESOURCE}"`,
    };
    const auth = req.headers.authorization;
    if (!auth?.startsWith("Bearer ")) {
      record({ vault: vaultName, status: 401, client: "" });
      return send(
        res,
        401,
        { error: { code: "Unauthorized", message: "AKV10000: Request is missing a Bearer or PoP token." } },
        challenge,
      );
    }
    const claims = entra.verify(auth.slice("Bearer ".length), KEY_VAULT_RESOURCE);
    if (!claims) {
      record({ vault: vaultName, status: 401, client: "" });
      return send(
        res,
        401,
        { error: { code: "Unauthorized", message: "AKV10032: Invalid issuer, audience or signature." } },
        challenge,
      );
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
    if (!vault)
      return fail(404, "VaultNotFound", `The vault '${vaultName}' (host ${host}) does not exist on this endpoint.`);
    const apiVersion = url.searchParams.get("api-version");
    if (apiVersion === null) return fail(400, "BadParameter", "The 'api-version' query parameter is required.");
    if (!vault.apiVersions.has(apiVersion)) {
      return fail(
        400,
        "BadParameter",
        `The specified version (${apiVersion}) is not recognized. Consider using the latest supported version (${[...vault.apiVersions].at(-1)}).`,
      );
    }
    const { secrets, grants, name } = vault;
    const here = origin(name);
    const bundle = (n: string, v: StoredVersion, withValue: boolean) => ({
      ...(withValue ? { value: v.value } : {}),
      id: `${here}/secrets/${n}/${v.version}`,
      attributes: {
        enabled: true,
        created: v.created,
        updated: v.updated,
        recoveryLevel: "Recoverable+Purgeable",
        recoverableDays: 90,
      },
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
      fail(
        403,
        "Forbidden",
        `The user, group or application 'appid=${client};iss=${authorityHost}/${FAKE_TENANT}/v2.0' does not have secrets ${p} permission on key vault '${name};location=local'.`,
      );
    const parts = url.pathname.split("/").filter(Boolean);
    const notFound = (n: string) =>
      fail(
        404,
        "SecretNotFound",
        `A secret with (name/id) ${n} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command.`,
      );
    const deletedNotFound = (n: string) => fail(404, "SecretNotFound", `Deleted Secret not found: ${n}`);
    // A recovery in progress: the secret is neither deleted nor readable until it ends.
    const recovering = (s: StoredSecret | undefined) => s?.recoveredAt !== undefined && s.recoveredAt > Date.now();
    const live = (s: StoredSecret | undefined): s is StoredSecret =>
      s !== undefined && s.deleted === undefined && !recovering(s);
    const page = <T>(items: T[], path: string) => {
      const max = Math.min(Number(url.searchParams.get("maxresults") ?? PAGE_SIZE) || PAGE_SIZE, PAGE_SIZE);
      const skip = Number(url.searchParams.get("$skiptoken") ?? 0);
      // Like the service, the nextLink carries the api-version of the request that made it.
      const next =
        skip + max < items.length
          ? `${here}${path}?api-version=${apiVersion}&$skiptoken=${skip + max}&maxresults=${max}`
          : null;
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
    if (
      (parts[0] === "secrets" || parts[0] === "deletedsecrets") &&
      parts.length >= 2 &&
      !/^[0-9a-zA-Z-]{1,127}$/.test(secretName)
    ) {
      return fail(400, "BadParameter", `The request URI contains an invalid name: ${secretName}`);
    }
    const stored = secrets.get(secretName);
    if (parts[0] === "secrets" && parts.length >= 2) {
      if (method === "PUT" && parts.length === 2) {
        if (!may("set")) return forbid("set");
        if (stored?.deleted !== undefined) {
          return fail(
            409,
            "Conflict",
            `Secret ${secretName} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
          );
        }
        if (recovering(stored))
          return fail(
            409,
            "Conflict",
            `There was a conflict while trying to set secret ${secretName}: it is currently being recovered.`,
          );
        const input = JSON.parse(text || "{}") as {
          value?: unknown;
          tags?: Record<string, string>;
          contentType?: string;
        };
        if (typeof input.value !== "string") return fail(400, "BadParameter", "Property value is required.");
        const now = Math.floor(Date.now() / 1000);
        const version: StoredVersion = {
          version: randomBytes(16).toString("hex"),
          value: input.value,
          tags: input.tags ?? {},
          created: now,
          updated: now,
          ...(input.contentType ? { contentType: input.contentType } : {}),
        };
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
    const meta = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: url.search,
      apiVersion: url.searchParams.get("api-version") ?? "",
    };
    const record = (r: Omit<RequestRecord, "method" | "path" | "query" | "apiVersion" | "at">) =>
      requests.push({ ...meta, ...r, at: Date.now() });
    if (throttled && throttled.count > 0) {
      throttled.count--;
      record({ vault: (req.headers.host ?? "").split(".")[0] ?? "", status: throttled.status, client: "" });
      const code = throttled.status === 429 ? "Throttled" : "ServiceUnavailable";
      return send(
        res,
        throttled.status,
        { error: { code, message: `fault injected by the test: ${code}` } },
        { "retry-after": String(throttled.retryAfterSeconds) },
      );
    }
    const i = intercepts.findIndex((x) => x.match(meta.method, meta.path));
    const hook = i >= 0 ? intercepts.splice(i, 1)[0]!.hook : async () => undefined;
    const go = () =>
      hook()
        .then(() => handle(req, res, record))
        .catch((err: unknown) => kvError(res, 500, "InternalError", String(err)));
    if (latencyMs > 0) setTimeout(() => void go(), latencyMs);
    else void go();
  });
  servers.push(kvServer);
  const kvPort = await listen(kvServer);
  origin = (name: string) => `https://${name}.${KEY_VAULT_DOMAIN}:${kvPort}`;

  function addVault(name: string, opts: { apiVersions?: string[] } = {}): FakeVault {
    const state: VaultState = {
      name,
      secrets: new Map(),
      grants: new Map(),
      apiVersions: new Set(opts.apiVersions ?? API_VERSIONS),
    };
    vaults.set(name, state);
    const { secrets, grants } = state;
    return {
      name,
      url: origin(name),
      allow: (clientId, permissions) =>
        grants.set(clientId, new Set([...(grants.get(clientId) ?? []), ...permissions])),
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

  return {
    entra,
    caFile: pki.caCert,
    vault(name) {
      const v = handles.get(name);
      if (!v) throw new Error(`fake Key Vault ${name} was not started: call addVault("${name}") first`);
      return v;
    },
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
      await Promise.all([...servers.map((s) => new Promise((resolve) => s.close(resolve))), entra.stop()]);
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
