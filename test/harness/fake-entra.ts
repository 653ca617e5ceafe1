// A FAKE of Microsoft Entra ID's token endpoint, for the tests: no Entra emulator exists. It
// follows the documented v2.0 endpoint as workload identity federation uses it — the
// client-credentials grant with a /.default scope, authenticated by a federated client
// assertion (what WorkloadIdentityCredential sends) or, for the tests' own calls, a client
// secret — and the tenant's OpenID discovery document. Access tokens are RS256 JWTs for the
// scope's resource; the fake resource servers (fake-key-vault.ts, fake-arm.ts) check them
// with verify(). It serves HTTPS on loopback with the TLS material its caller gives it.
import { createSign, createVerify, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";

export const FAKE_TENANT = "7d6c2f51-3b8a-4e0f-9c1d-5a2b8e4f6a13";
export const EXCHANGE_AUDIENCE = "api://AzureADTokenExchange";

/** A federated identity credential: which workload token (issuer + subject) may act as the app. */
export interface FederatedApp {
  clientId: string;
  issuer: string;
  subject: string;
}

export interface TokenClaims {
  aud: string;
  iss: string;
  tid: string;
  appid: string;
  exp: number;
}

export interface FakeEntra {
  /** What AZURE_AUTHORITY_HOST names: https://127.0.0.1:<port>. */
  authorityHost: string;
  tenantId: string;
  /** Registers an app whose federated credential trusts one workload token's issuer and subject. */
  federate(app: FederatedApp): void;
  /** An admin app that authenticates with a client secret, for the tests' own calls. */
  adminCredentials(): { clientId: string; clientSecret: string };
  /** The claims of an access token this fake issued for `audience`, if it is valid now. */
  verify(token: string, audience: string): TokenClaims | undefined;
  /** Every access token issued so far (secrets: the leak hunt looks for them). */
  issued(): string[];
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

function signJwt(claims: Record<string, unknown>, key: KeyObject, kid: string): string {
  const head = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid }));
  const body = b64url(JSON.stringify(claims));
  const sig = createSign("RSA-SHA256").update(`${head}.${body}`).sign(key);
  return `${head}.${body}.${b64url(sig)}`;
}

/** A JWT's claims, the signed part and the signature; undefined when it is not a JWT. */
export function decodeJwt(
  token: string,
): { claims: Record<string, unknown>; signed: string; signature: Buffer } | undefined {
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

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "x-ms-request-id": randomBytes(8).toString("hex"),
  });
  res.end(JSON.stringify(payload));
}

/**
 * Starts the fake token endpoint. Entra checks a federated assertion's signature against its
 * issuer's published keys; the fake asks the issuer itself (`reviewToken`, e.g. a Kubernetes
 * TokenReview for the exchange audience) and then matches issuer, subject and audience
 * against the app's federated credential.
 */
export async function startFakeEntra(opts: {
  tls: { cert: Buffer; key: Buffer };
  reviewToken: (token: string, audience: string) => Promise<boolean>;
}): Promise<FakeEntra> {
  const signing = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = randomBytes(8).toString("hex");
  const apps = new Map<string, FederatedApp>();
  const admin = {
    clientId: `admin-${randomBytes(4).toString("hex")}`,
    clientSecret: randomBytes(24).toString("base64url"),
  };
  const issued: string[] = [];
  let authorityHost = "";

  async function checkAssertion(
    assertion: string,
    type: string | null,
    app: FederatedApp,
  ): Promise<string | undefined> {
    if (type !== "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
      return "AADSTS700025: a jwt-bearer client assertion is required.";
    const jwt = decodeJwt(assertion);
    if (!jwt) return "AADSTS50027: JWT token is invalid or malformed.";
    if (!(await opts.reviewToken(assertion, EXCHANGE_AUDIENCE)))
      return "AADSTS700027: Client assertion failed signature validation.";
    const { iss, sub, aud, exp } = jwt.claims as { iss?: string; sub?: string; aud?: string | string[]; exp?: number };
    if (typeof exp !== "number" || exp * 1000 < Date.now())
      return "AADSTS700024: Client assertion is not within its valid time range.";
    const audiences = Array.isArray(aud) ? aud : [aud];
    if (iss !== app.issuer || sub !== app.subject || !audiences.includes(EXCHANGE_AUDIENCE)) {
      return `AADSTS70021: No matching federated identity record found for presented assertion. Assertion Issuer: '${iss}'. Assertion Subject: '${sub}'. Assertion Audience: '${audiences.join(",")}'.`;
    }
    return undefined;
  }

  const server: Server = createServer(opts.tls, (req, res) => {
    void (async () => {
      const url = new URL(req.url ?? "/", authorityHost);
      const [tenant, ...rest] = url.pathname.split("/").filter(Boolean);
      const route = rest.join("/");
      if (req.method === "GET" && route === "v2.0/.well-known/openid-configuration") {
        const base = `${authorityHost}/${tenant}`;
        return send(res, 200, {
          issuer: `${base}/v2.0`,
          token_endpoint: `${base}/oauth2/v2.0/token`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          end_session_endpoint: `${base}/oauth2/v2.0/logout`,
          jwks_uri: `${base}/discovery/v2.0/keys`,
          response_types_supported: ["code", "id_token", "token"],
          subject_types_supported: ["pairwise"],
          id_token_signing_alg_values_supported: ["RS256"],
        });
      }
      if (req.method !== "POST" || route !== "oauth2/v2.0/token") return send(res, 404, { error: "not_found" });
      if (tenant !== FAKE_TENANT)
        return send(res, 400, {
          error: "invalid_request",
          error_description: `AADSTS90002: Tenant '${tenant}' not found.`,
        });
      const form = new URLSearchParams(await body(req));
      const clientId = form.get("client_id") ?? "";
      const scope = form.get("scope") ?? "";
      if (form.get("grant_type") !== "client_credentials" || !scope.endsWith("/.default")) {
        return send(res, 400, {
          error: "invalid_request",
          error_description: "AADSTS900144: client_credentials with a /.default scope is required.",
        });
      }
      if (clientId === admin.clientId) {
        if (form.get("client_secret") !== admin.clientSecret)
          return send(res, 401, {
            error: "invalid_client",
            error_description: "AADSTS7000215: Invalid client secret provided.",
          });
      } else {
        const app = apps.get(clientId);
        if (!app)
          return send(res, 400, {
            error: "unauthorized_client",
            error_description: `AADSTS700016: Application with identifier '${clientId}' was not found in the directory.`,
          });
        const problem = await checkAssertion(
          form.get("client_assertion") ?? "",
          form.get("client_assertion_type"),
          app,
        );
        if (problem) return send(res, 400, { error: "invalid_client", error_description: problem });
      }
      const now = Math.floor(Date.now() / 1000);
      const claims = {
        aud: scope.slice(0, -"/.default".length),
        iss: `${authorityHost}/${FAKE_TENANT}/v2.0`,
        tid: FAKE_TENANT,
        appid: clientId,
        oid: clientId,
        iat: now,
        nbf: now,
        exp: now + 3600,
      };
      const accessToken = signJwt(claims, signing.privateKey, kid);
      issued.push(accessToken);
      send(res, 200, { token_type: "Bearer", expires_in: 3599, ext_expires_in: 3599, access_token: accessToken });
    })().catch((err: unknown) => send(res, 500, { error: "server_error", error_description: String(err) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  server.unref();
  authorityHost = `https://127.0.0.1:${(server.address() as { port: number }).port}`;

  return {
    authorityHost,
    tenantId: FAKE_TENANT,
    federate: (app) => apps.set(app.clientId, app),
    adminCredentials: () => admin,
    verify(token, audience) {
      const jwt = decodeJwt(token);
      if (!jwt || !createVerify("RSA-SHA256").update(jwt.signed).verify(signing.publicKey, jwt.signature))
        return undefined;
      const claims = jwt.claims as unknown as TokenClaims;
      if (claims.aud !== audience || claims.tid !== FAKE_TENANT || claims.exp * 1000 < Date.now()) return undefined;
      return claims;
    },
    issued: () => [...issued],
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
