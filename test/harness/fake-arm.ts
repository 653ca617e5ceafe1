// A FAKE of Azure Resource Manager's federated identity credential API, because no emulator
// of it exists. It follows the documented API:
//   PUT/GET /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/
//           userAssignedIdentities/{identity}/federatedIdentityCredentials/{name}?api-version=2023-01-31
//   GET     …/federatedIdentityCredentials?api-version=… lists them ({value, nextLink}, pages of PAGE_SIZE);
//   DELETE  …/federatedIdentityCredentials/{name} answers 200, or 204 when there was none;
//   PUT answers 201 on create and 200 on update; names follow ^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$;
//   at most 20 credentials per identity; issuer + subject unique per identity.
// It accepts bearer tokens the fake Entra (fake-entra.ts) issued for it, serves HTTPS on
// loopback with a test CA the step processes trust through NODE_EXTRA_CA_CERTS, and counts
// every write it receives.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WriteCounter } from "../conformance/cases.js";
import { EXCHANGE_AUDIENCE, startFakeEntra, type FakeEntra } from "./fake-entra.js";
import { makePki } from "./pki.js";

export const FAKE_API_VERSION = "2023-01-31";
const NAME_RULE = /^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$/;
const MAX_PER_IDENTITY = 20;
// Small on purpose, so a client that ignores nextLink misses credentials in the tests.
const PAGE_SIZE = 5;

export interface FakeFic {
  issuer: string;
  subject: string;
  audiences: string[];
}

export interface FakeArmOptions {
  tls: { cert: Buffer; key: Buffer };
  /** The tenant whose tokens ARM accepts. */
  entra: FakeEntra;
}

export class FakeArm {
  /** identity key "sub/rg/name" -> credential name -> credential */
  readonly identities = new Map<string, Map<string, FakeFic>>();
  readonly writes: string[] = [];
  /** Every ARM request that reached a credential path: method, status, when (epoch ms). */
  readonly armRequests: Array<{ method: string; status: number; at: number }> = [];
  private throttled = { count: 0, status: 429, retryAfterSeconds: 0 };
  private server: Server | undefined;
  url = "";

  constructor(private readonly opts: FakeArmOptions) {}

  async start(): Promise<void> {
    this.server = createServer(this.opts.tls, (req, res) => {
      this.handle(req, res).catch((err: unknown) =>
        send(res, 500, { error: { code: "InternalError", message: String(err) } }),
      );
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.server.unref();
    this.url = `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  addIdentity(subscriptionId: string, resourceGroup: string, name: string): void {
    const key = `${subscriptionId}/${resourceGroup.toLowerCase()}/${name.toLowerCase()}`;
    if (!this.identities.has(key)) this.identities.set(key, new Map());
  }

  credentials(subscriptionId: string, resourceGroup: string, identity: string): Map<string, FakeFic> | undefined {
    return this.identities.get(`${subscriptionId}/${resourceGroup.toLowerCase()}/${identity.toLowerCase()}`);
  }

  /**
   * Fault injection: the next `count` ARM requests are answered `status` with a Retry-After
   * of `retryAfterSeconds`, as ARM throttles (429) or a front end is unavailable (503).
   */
  throttle(count: number, status: 429 | 503, retryAfterSeconds: number): void {
    this.throttled = { count, status, retryAfterSeconds };
  }

  writeCounter(): WriteCounter {
    return { mark: async () => this.writes.length, since: async (mark) => this.writes.slice(mark) };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const body = await readBody(req);
    const arm = url.pathname.startsWith("/subscriptions/");
    if (arm && this.throttled.count > 0) {
      this.throttled.count--;
      this.armRequests.push({ method: req.method ?? "GET", status: this.throttled.status, at: Date.now() });
      const code = this.throttled.status === 429 ? "TooManyRequests" : "ServiceUnavailable";
      return send(
        res,
        this.throttled.status,
        { error: { code, message: `fault injected by the test: ${code}` } },
        { "retry-after": String(this.throttled.retryAfterSeconds) },
      );
    }
    if (arm)
      res.once("finish", () =>
        this.armRequests.push({ method: req.method ?? "GET", status: res.statusCode, at: Date.now() }),
      );
    const m =
      /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/([^/]+)\/federatedIdentityCredentials(?:\/([^/]+))?$/i.exec(
        url.pathname,
      );
    if (!m)
      return send(res, 404, {
        error: { code: "NotFound", message: `the fake does not serve ${req.method} ${url.pathname}` },
      });
    const auth = req.headers.authorization ?? "";
    // The SDK asks for a token for its endpoint (`<endpoint>/.default`); Azure's own is management.azure.com.
    const token = auth.startsWith("Bearer ") ? auth.slice(7) : "";
    if (!this.opts.entra.verify(token, this.url) && !this.opts.entra.verify(token, "https://management.azure.com")) {
      return send(res, 401, { error: { code: "InvalidAuthenticationToken", message: "The access token is invalid." } });
    }
    if (url.searchParams.get("api-version") !== FAKE_API_VERSION) {
      return send(res, 400, {
        error: {
          code: "InvalidApiVersionParameter",
          message: `The api-version '${url.searchParams.get("api-version")}' is invalid.`,
        },
      });
    }
    const [, sub, rg, identity, name] = m.map((p) => (p === undefined ? p : decodeURIComponent(p))) as [
      string,
      string,
      string,
      string,
      string | undefined,
    ];
    const fics = this.credentials(sub, rg, identity);
    if (!fics) {
      return send(res, 404, {
        error: {
          code: "ResourceNotFound",
          message: `The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/${identity}' under resource group '${rg}' was not found.`,
        },
      });
    }
    const resource = (fic: FakeFic, n = name!) => ({
      id: `${url.pathname.replace(/\/federatedIdentityCredentials.*$/i, "")}/federatedIdentityCredentials/${n}`,
      name: n,
      type: "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
      properties: { issuer: fic.issuer, subject: fic.subject, audiences: fic.audiences },
    });

    if (name === undefined) {
      if (req.method !== "GET")
        return send(res, 405, {
          error: { code: "MethodNotAllowed", message: `${req.method} is not allowed on the collection.` },
        });
      const skip = Number(url.searchParams.get("$skiptoken") ?? 0);
      const names = [...fics.keys()].sort();
      const next = new URL(url);
      next.searchParams.set("$skiptoken", String(skip + PAGE_SIZE));
      return send(res, 200, {
        value: names.slice(skip, skip + PAGE_SIZE).map((n) => resource(fics.get(n)!, n)),
        ...(skip + PAGE_SIZE < names.length ? { nextLink: next.toString() } : {}),
      });
    }
    if (req.method === "GET") {
      const fic = fics.get(name);
      return fic
        ? send(res, 200, resource(fic))
        : send(res, 404, {
            error: { code: "NotFound", message: `Federated identity credential '${name}' not found.` },
          });
    }
    if (req.method === "PUT") {
      this.writes.push(`arm PUT ${identity}/${name}`);
      if (!NAME_RULE.test(name))
        return send(res, 400, {
          error: { code: "BadRequest", message: `Invalid federated identity credential name '${name}'.` },
        });
      const p = (JSON.parse(body || "{}") as { properties?: Partial<FakeFic> }).properties ?? {};
      if (!p.issuer || !p.subject || !p.audiences?.length)
        return send(res, 400, {
          error: { code: "BadRequest", message: "issuer, subject and audiences are required." },
        });
      const clash = [...fics].find(([n, f]) => n !== name && f.issuer === p.issuer && f.subject === p.subject);
      if (clash)
        return send(res, 400, {
          error: {
            code: "BadRequest",
            message: `Federated identity credential '${clash[0]}' already has this issuer and subject.`,
          },
        });
      const existed = fics.has(name);
      if (!existed && fics.size >= MAX_PER_IDENTITY) {
        return send(res, 400, {
          error: {
            code: "BadRequest",
            message: `An identity can have at most ${MAX_PER_IDENTITY} federated identity credentials.`,
          },
        });
      }
      const fic = { issuer: p.issuer, subject: p.subject, audiences: p.audiences };
      fics.set(name, fic);
      return send(res, existed ? 200 : 201, resource(fic));
    }
    if (req.method === "DELETE") {
      this.writes.push(`arm DELETE ${identity}/${name}`);
      return send(res, fics.delete(name) ? 200 : 204, "");
    }
    return send(res, 405, { error: { code: "MethodNotAllowed", message: `${req.method} is not allowed.` } });
  }
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "x-ms-request-id": randomBytes(8).toString("hex"),
    ...headers,
  });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The fake ARM, the fake Entra tenant it trusts, and the workload identity environment a pod would get. */
export interface FakeArmSetup {
  fake: FakeArm;
  entra: FakeEntra;
  /** The workload's projected token (its federated assertion): a secret. */
  assertion: string;
  subscriptionId: string;
  /** What the workload identity webhook injects, plus the CA that makes the fakes trusted. */
  env(): Record<string, string>;
  stop(): Promise<void>;
}

/**
 * Starts the fake ARM and its Entra on one test CA. The workload's assertion stands for a
 * projected ServiceAccount token of a cluster whose issuer the test does not run: a JWT with
 * the exchange audience, which that issuer (here, the setup itself) recognises as its own.
 */
export async function startFakeArm(): Promise<FakeArmSetup> {
  const dir = await mkdtemp(join(tmpdir(), "reseed-fake-arm-"));
  const pki = await makePki(dir);
  const tls = { cert: await readFile(pki.servingCert), key: await readFile(pki.servingKey) };
  const issuer = "https://oidc.cluster.reseed.test";
  const subject = "system:serviceaccount:coder-ws:coder-workspace";
  const jwtPart = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const assertion = [
    jwtPart({ alg: "RS256", typ: "JWT" }),
    jwtPart({ iss: issuer, sub: subject, aud: [EXCHANGE_AUDIENCE], exp: Math.floor(Date.now() / 1000) + 24 * 3600 }),
    randomBytes(32).toString("base64url"),
  ].join(".");
  const tokenFile = join(dir, "azure-identity-token");
  await writeFile(tokenFile, assertion);
  const entra = await startFakeEntra({
    tls,
    reviewToken: async (token, audience) => token === assertion && audience === EXCHANGE_AUDIENCE,
  });
  const clientId = "66666666-7777-8888-9999-000000000000";
  entra.federate({ clientId, issuer, subject });
  const fake = new FakeArm({ tls, entra });
  await fake.start();
  return {
    fake,
    entra,
    assertion,
    subscriptionId: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    env: () => ({
      AZURE_CLIENT_ID: clientId,
      AZURE_TENANT_ID: entra.tenantId,
      AZURE_FEDERATED_TOKEN_FILE: tokenFile,
      AZURE_AUTHORITY_HOST: `${entra.authorityHost}/`,
      NODE_EXTRA_CA_CERTS: pki.caCert,
    }),
    async stop() {
      await Promise.all([fake.stop(), entra.stop()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
