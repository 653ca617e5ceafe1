// A FAKE of Azure Resource Manager's federated identity credential API and of the Entra ID
// token endpoint, because no emulator of either exists. It follows the documented API:
//   PUT/GET /subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/
//           userAssignedIdentities/{identity}/federatedIdentityCredentials/{name}?api-version=2023-01-31
//   GET     …/federatedIdentityCredentials?api-version=… lists them ({value, nextLink}, pages of PAGE_SIZE);
//   DELETE  …/federatedIdentityCredentials/{name} answers 200, or 204 when there was none;
//   PUT answers 201 on create and 200 on update; names follow ^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$;
//   at most 20 credentials per identity; issuer + subject unique per identity.
// and the client-credentials grant with a client assertion (what WorkloadIdentityCredential
// sends). It serves HTTPS on loopback with a test CA the step processes trust through
// NODE_EXTRA_CA_CERTS, and counts every write it receives.
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { WriteCounter } from "../conformance/cases.js";
import { makePki } from "../harness/pki.js";

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

export interface FakeAzureOptions {
  caCert: string;
  servingCert: string;
  servingKey: string;
  tenantId: string;
  clientId: string;
  /** The projected service-account token the workload presents as its client assertion. */
  assertion: () => Promise<string>;
}

export class FakeAzure {
  /** identity key "sub/rg/name" -> credential name -> credential */
  readonly identities = new Map<string, Map<string, FakeFic>>();
  readonly writes: string[] = [];
  readonly tokens = new Set<string>();
  private server: Server | undefined;
  url = "";

  constructor(private readonly opts: FakeAzureOptions) {}

  async start(): Promise<void> {
    const [cert, key] = await Promise.all([readFile(this.opts.servingCert), readFile(this.opts.servingKey)]);
    this.server = createServer({ cert, key }, (req, res) => {
      this.handle(req, res).catch((err: unknown) => send(res, 500, { error: { code: "InternalError", message: String(err) } }));
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

  writeCounter(): WriteCounter {
    return { mark: async () => this.writes.length, since: async (mark) => this.writes.slice(mark) };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.url);
    const body = await readBody(req);
    const tenant = this.opts.tenantId;

    if (req.method === "GET" && url.pathname === `/${tenant}/v2.0/.well-known/openid-configuration`) {
      const base = `${this.url}/${tenant}`;
      return send(res, 200, {
        issuer: `${base}/v2.0`,
        authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
        token_endpoint: `${base}/oauth2/v2.0/token`,
        end_session_endpoint: `${base}/oauth2/v2.0/logout`,
        jwks_uri: `${base}/discovery/v2.0/keys`,
      });
    }
    if (req.method === "POST" && url.pathname === `/${tenant}/oauth2/v2.0/token`) {
      const form = new URLSearchParams(body);
      const ok =
        form.get("grant_type") === "client_credentials" &&
        form.get("client_id") === this.opts.clientId &&
        form.get("client_assertion_type") === "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" &&
        form.get("client_assertion") === (await this.opts.assertion()).trim();
      if (!ok) return send(res, 401, { error: "invalid_client", error_description: "AADSTS700016: the fake rejects this client or assertion" });
      const token = `fake-arm-token-${randomBytes(16).toString("hex")}`;
      this.tokens.add(token);
      return send(res, 200, { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: token });
    }

    const m = /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.ManagedIdentity\/userAssignedIdentities\/([^/]+)\/federatedIdentityCredentials(?:\/([^/]+))?$/i.exec(url.pathname);
    if (!m) return send(res, 404, { error: { code: "NotFound", message: `the fake does not serve ${req.method} ${url.pathname}` } });
    const auth = req.headers.authorization ?? "";
    if (!auth.startsWith("Bearer ") || !this.tokens.has(auth.slice(7))) {
      return send(res, 401, { error: { code: "InvalidAuthenticationToken", message: "The access token is invalid." } });
    }
    if (url.searchParams.get("api-version") !== FAKE_API_VERSION) {
      return send(res, 400, { error: { code: "InvalidApiVersionParameter", message: `The api-version '${url.searchParams.get("api-version")}' is invalid.` } });
    }
    const [, sub, rg, identity, name] = m.map((p) => (p === undefined ? p : decodeURIComponent(p))) as [string, string, string, string, string | undefined];
    const fics = this.credentials(sub, rg, identity);
    if (!fics) {
      return send(res, 404, { error: { code: "ResourceNotFound", message: `The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/${identity}' under resource group '${rg}' was not found.` } });
    }
    const resource = (fic: FakeFic, n = name!) => ({
      id: `${url.pathname.replace(/\/federatedIdentityCredentials.*$/i, "")}/federatedIdentityCredentials/${n}`,
      name: n,
      type: "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
      properties: { issuer: fic.issuer, subject: fic.subject, audiences: fic.audiences },
    });

    if (name === undefined) {
      if (req.method !== "GET") return send(res, 405, { error: { code: "MethodNotAllowed", message: `${req.method} is not allowed on the collection.` } });
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
      return fic ? send(res, 200, resource(fic)) : send(res, 404, { error: { code: "NotFound", message: `Federated identity credential '${name}' not found.` } });
    }
    if (req.method === "PUT") {
      this.writes.push(`arm PUT ${identity}/${name}`);
      if (!NAME_RULE.test(name)) return send(res, 400, { error: { code: "BadRequest", message: `Invalid federated identity credential name '${name}'.` } });
      const p = (JSON.parse(body || "{}") as { properties?: Partial<FakeFic> }).properties ?? {};
      if (!p.issuer || !p.subject || !p.audiences?.length) return send(res, 400, { error: { code: "BadRequest", message: "issuer, subject and audiences are required." } });
      const clash = [...fics].find(([n, f]) => n !== name && f.issuer === p.issuer && f.subject === p.subject);
      if (clash) return send(res, 400, { error: { code: "BadRequest", message: `Federated identity credential '${clash[0]}' already has this issuer and subject.` } });
      const existed = fics.has(name);
      if (!existed && fics.size >= MAX_PER_IDENTITY) {
        return send(res, 400, { error: { code: "BadRequest", message: `An identity can have at most ${MAX_PER_IDENTITY} federated identity credentials.` } });
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

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "x-ms-request-id": randomBytes(8).toString("hex") });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

/** The fake, a test CA it serves with, and the workload identity environment a pod would get. */
export interface FakeAzureSetup {
  fake: FakeAzure;
  assertion: string;
  subscriptionId: string;
  /** What the workload identity webhook injects, plus the CA that makes the fake trusted. */
  env(): Record<string, string>;
}

export async function startFakeAzure(): Promise<FakeAzureSetup> {
  const dir = await mkdtemp(join(tmpdir(), "reseed-fake-azure-"));
  const pki = await makePki(dir);
  const tokenFile = join(dir, "azure-identity-token");
  const assertion = `fake-projected-sa-token-${randomBytes(16).toString("hex")}`;
  await writeFile(tokenFile, assertion);
  const tenantId = "11111111-2222-3333-4444-555555555555";
  const clientId = "66666666-7777-8888-9999-000000000000";
  const fake = new FakeAzure({ caCert: pki.caCert, servingCert: pki.servingCert, servingKey: pki.servingKey, tenantId, clientId, assertion: () => readFile(tokenFile, "utf8") });
  await fake.start();
  return {
    fake,
    assertion,
    subscriptionId: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
    env: () => ({
      AZURE_CLIENT_ID: clientId,
      AZURE_TENANT_ID: tenantId,
      AZURE_FEDERATED_TOKEN_FILE: tokenFile,
      AZURE_AUTHORITY_HOST: `${fake.url}/`,
      NODE_EXTRA_CA_CERTS: pki.caCert,
    }),
  };
}
