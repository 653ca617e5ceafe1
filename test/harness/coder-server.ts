import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, mkdir, mkdtemp, rm } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startCoderPostgres, type CoderPostgres } from "./coder-postgres.js";
import { freePorts, ServerProcess, startWatchdog } from "./processes.js";

/** A real Coder server on PostgreSQL, behind a loopback proxy that counts every write request. */
export interface CoderServer {
  /** The counting proxy: what units talk to. */
  url: string;
  /** Coder itself, for the test's own requests (not counted). */
  directUrl: string;
  /** Milliseconds the last start took, from spawn to /api/v2/buildinfo answering. */
  lastStartMs: number;
  writes: { mark(): number; since(mark: number): string[] };
  /** Stop Coder, drop and recreate its database, start Coder: a cluster recreate, as Coder sees it. */
  resetDatabase(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The accounts the coder-admin tests seed: the break-glass owner (a fresh password each call,
 * put in the unit's input Secret `coder-bootstrap-admin`) and the SSO admin. With
 * coderAdminUnit, one definition for coder-admin.test.ts and server-restarts.test.ts, which
 * run the same unit against Coders of their own.
 */
export function coderAccounts() {
  return {
    owner: {
      email: "break-glass@corp.internal",
      username: "break-glass",
      password: `Pw-${randomBytes(18).toString("base64url")}`,
    },
    ssoAdmin: { email: "platform-admin@corp.internal", username: "platform-admin" },
  };
}

/** The coder-admin unit for the Coder at `url`: the owner from Secret `coder-bootstrap-admin`, `with` overridable. */
export function coderAdminUnit(
  url: string,
  ssoAdmin: { email: string; username: string },
  withOverrides: Record<string, unknown> = {},
) {
  return {
    apiVersion: "reseed.dev/v1alpha1",
    kind: "SeedingUnit",
    metadata: { name: "coder-first-admin" },
    spec: {
      pattern: "reconciler",
      inputs: {
        ownerEmail: { secretKeyRef: { name: "coder-bootstrap-admin", key: "email" } },
        ownerUsername: { secretKeyRef: { name: "coder-bootstrap-admin", key: "username" } },
        ownerPassword: { secretKeyRef: { name: "coder-bootstrap-admin", key: "password" } },
      },
      ensure: {
        kind: "coder-admin",
        with: {
          url,
          owner: {
            email: { input: "ownerEmail" },
            username: { input: "ownerUsername" },
            password: { input: "ownerPassword" },
          },
          admin: { email: ssoAdmin.email, username: ssoAdmin.username },
          session: { kubernetesSecret: { name: "coder-reseed-session" } },
          ...withOverrides,
        },
      },
    },
  };
}

export const CODER_HINT = "build it with `make coder-server` (make test does), or export RESEED_CODER=/path/to/coder";
const DATABASE = "coder";
const READY_TIMEOUT_MS = 180_000;

export async function startCoderServer(): Promise<CoderServer> {
  const binary = process.env.RESEED_CODER;
  if (!binary) throw new Error(`RESEED_CODER is not set: it names the coder binary; ${CODER_HINT}`);
  await access(binary, constants.X_OK).catch(() => {
    throw new Error(`missing executable ${binary} (RESEED_CODER): ${CODER_HINT}`);
  });

  const dir = await mkdtemp(join(tmpdir(), "reseed-coder-"));
  const closers: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    closers.length = 0;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const pg: CoderPostgres = await startCoderPostgres(dir);
    const pgWatchdog = startWatchdog(pg.process.pid ? [pg.process.pid] : [], dir);
    closers.push(async () => {
      pgWatchdog.disarm();
      await pg.stop();
    });
    await pg.recreateDatabase(DATABASE);

    const issuer = await fakeOidcIssuer();
    closers.push(issuer.close);
    const [coderPort] = (await freePorts(1)) as [number];
    const directUrl = `http://127.0.0.1:${coderPort}`;
    const proxy = await countingProxy(coderPort);
    closers.push(proxy.close);

    const home = join(dir, "home");
    await mkdir(home);
    const env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      CODER_PG_CONNECTION_URL: pg.connectionUrl(DATABASE),
      CODER_HTTP_ADDRESS: `127.0.0.1:${coderPort}`,
      CODER_ACCESS_URL: directUrl,
      CODER_CACHE_DIRECTORY: join(home, "cache"),
      CODER_TELEMETRY_ENABLE: "false",
      CODER_UPDATE_CHECK: "false",
      CODER_DERP_SERVER_STUN_ADDRESSES: "disable",
      CODER_PROVISIONER_DAEMONS: "0",
      // OIDC users can only be created when OIDC is configured; Coder reads the issuer's
      // discovery document at start. No sign-in happens in these tests.
      CODER_OIDC_ISSUER_URL: issuer.url,
      CODER_OIDC_CLIENT_ID: "coder",
      CODER_OIDC_CLIENT_SECRET: randomBytes(16).toString("hex"),
    };

    let coder: ServerProcess | undefined;
    let coderWatchdog: { disarm(): void } | undefined;
    const stopCoder = async () => {
      coderWatchdog?.disarm();
      await coder?.stop();
      coder = undefined;
    };
    closers.push(stopCoder);

    const server: CoderServer = {
      url: proxy.url,
      directUrl,
      lastStartMs: 0,
      writes: proxy.writes,
      async resetDatabase() {
        await stopCoder();
        await pg.recreateDatabase(DATABASE);
        await startCoder();
      },
      stop,
    };
    const startCoder = async () => {
      const started = Date.now();
      coder = new ServerProcess("coder", binary, ["server"], join(dir, "coder.log"), { env, cwd: home });
      coderWatchdog = startWatchdog(coder.pid ? [coder.pid] : [], home);
      await waitReady(directUrl, coder);
      server.lastStartMs = Date.now() - started;
    };
    await startCoder();
    return server;
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitReady(url: string, coder: ServerProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = "no answer yet";
  for (;;) {
    if (coder.exitReason)
      throw new Error(
        `coder ${coder.exitReason} while starting; last lines of ${coder.logFile}:\n${await coder.logTail()}`,
      );
    try {
      const res = await fetch(`${url}/api/v2/buildinfo`, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `coder at ${url} was not ready within ${READY_TIMEOUT_MS} ms (last: ${last}); last lines of ${coder.logFile}:\n${await coder.logTail()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Forwards every request to Coder and records the ones that can change state (anything but
 * GET, HEAD and OPTIONS) as "METHOD /path". This is where writes are counted: at the
 * authority's front door, not by the code under test.
 */
async function countingProxy(targetPort: number) {
  const writes: string[] = [];
  const server = http.createServer((req, res) => {
    const method = req.method ?? "GET";
    if (!["GET", "HEAD", "OPTIONS"].includes(method))
      writes.push(`coder ${method} ${(req.url ?? "/").split("?", 1)[0]}`);
    const upstream = http.request(
      {
        host: "127.0.0.1",
        port: targetPort,
        method,
        path: req.url,
        headers: { ...req.headers, host: `127.0.0.1:${targetPort}` },
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    writes: { mark: () => writes.length, since: (mark: number) => writes.slice(mark) },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * A fake OIDC issuer: only the discovery document and an empty key set, which is all Coder
 * reads at start. Nobody signs in through it; creating users with login_type oidc only
 * needs OIDC to be configured.
 */
async function fakeOidcIssuer() {
  let url = "";
  const server = http.createServer((req, res) => {
    const doc =
      req.url === "/.well-known/openid-configuration"
        ? {
            issuer: url,
            authorization_endpoint: `${url}/auth`,
            token_endpoint: `${url}/token`,
            userinfo_endpoint: `${url}/userinfo`,
            jwks_uri: `${url}/jwks`,
            response_types_supported: ["code"],
            subject_types_supported: ["public"],
            id_token_signing_alg_values_supported: ["RS256"],
          }
        : req.url === "/jwks"
          ? { keys: [] }
          : undefined;
    res.writeHead(doc ? 200 : 404, { "content-type": "application/json" });
    res.end(JSON.stringify(doc ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
