import { httpAnswer } from "../../core/errors.js";
import type { Redactor } from "../../core/redact.js";

// Keycloak's admin REST API through fetch: three calls, no client library. A library's
// errors carry the response body, and the body of the client-secret call is the secret.
// Errors here say which call failed and why in Keycloak's words, never with a body.

const TIMEOUT_MS = 10_000;

export class KeycloakError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "KeycloakError";
  }
}

export interface KeycloakClient {
  /** Keycloak's internal id of a client, as the admin API addresses it. */
  id: string;
  clientId: string;
  publicClient: boolean;
  bearerOnly: boolean;
}

export interface KeycloakAdmin {
  findClient(realm: string, clientId: string): Promise<KeycloakClient | undefined>;
  /** The client's current secret; read only (a POST on the same path would regenerate it). */
  readClientSecret(realm: string, client: KeycloakClient): Promise<string | undefined>;
}

const seg = encodeURIComponent;

function endpoint(base: string, path: string): string {
  return new URL(path, base.endsWith("/") ? base : `${base}/`).toString();
}

async function call(url: string, init: RequestInit, what: string): Promise<Response> {
  try {
    return await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS), redirect: "error" });
  } catch (err) {
    // undici's code alone (UND_ERR_SOCKET) does not say what happened; its message does
    // ("other side closed": the connection was lost mid-request, docs/faults.md).
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const said =
      cause?.code && cause.message && !cause.message.includes(cause.code)
        ? `${cause.code} ${cause.message}`
        : undefined;
    throw new KeycloakError(`${what}: ${said ?? cause?.message ?? cause?.code ?? (err as Error).message}`);
  }
}

/** Parses a JSON answer; a parse error would quote the body, so it is replaced. */
async function json<T>(res: Response, what: string): Promise<T> {
  try {
    return (await res.json()) as T;
  } catch {
    throw new KeycloakError(`${what}: the answer is not JSON (is the url Keycloak's?)`);
  }
}

/** A token endpoint's refusal: status and OAuth error code, masked (the body quotes the request, client_secret included). */
async function oauthError(res: Response, redactor: Redactor): Promise<string> {
  let code: unknown;
  try {
    code = ((await res.json()) as { error?: unknown }).error;
  } catch {
    code = undefined;
  }
  return httpAnswer(redactor, res.status, code);
}

/**
 * Signs in with the client-credentials grant of the extractor's own confidential client
 * and returns an admin API client. The access token is registered with the redactor.
 */
export async function connectKeycloak(
  url: string,
  auth: { realm: string; clientId: string; clientSecret: string },
  redactor: Redactor,
): Promise<KeycloakAdmin> {
  const tokenUrl = endpoint(url, `realms/${seg(auth.realm)}/protocol/openid-connect/token`);
  const res = await call(
    tokenUrl,
    {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
      body: new URLSearchParams({
        grant_type: "client_credentials",
        client_id: auth.clientId,
        client_secret: auth.clientSecret,
      }),
    },
    `token request to realm ${auth.realm} at ${url} failed`,
  );
  if (res.status === 404)
    throw new KeycloakError(`realm ${auth.realm} does not exist at ${url} (the extractor signs in there)`, 404);
  if (!res.ok) {
    throw new KeycloakError(
      `client ${auth.clientId} could not sign in to realm ${auth.realm}: ${await oauthError(res, redactor)} ` +
        "(check the client's id and secret, that it is confidential and has service accounts enabled)",
      res.status,
    );
  }
  const token = (await json<{ access_token?: unknown }>(res, `token request to realm ${auth.realm}`)).access_token;
  if (typeof token !== "string" || !token)
    throw new KeycloakError(`realm ${auth.realm} issued no access token to ${auth.clientId}`);
  redactor.register(token);
  const headers = { authorization: `Bearer ${token}`, accept: "application/json" };

  const get = async (path: string, what: string) => {
    const r = await call(endpoint(url, path), { headers }, `${what} failed`);
    if (r.status === 401 || r.status === 403) {
      throw new KeycloakError(
        `${what}: HTTP ${r.status}; grant ${auth.clientId}'s service account the realm-management role view-clients`,
        r.status,
      );
    }
    return r;
  };

  return {
    async findClient(realm, clientId) {
      const what = `finding client ${clientId} in realm ${realm}`;
      const r = await get(`admin/realms/${seg(realm)}/clients?clientId=${seg(clientId)}&search=false`, what);
      if (r.status === 404) throw new KeycloakError(`realm ${realm} does not exist at ${url}`, 404);
      if (!r.ok) throw new KeycloakError(`${what}: HTTP ${r.status}`, r.status);
      const list = await json<Array<{ id: string; clientId: string; publicClient?: boolean; bearerOnly?: boolean }>>(
        r,
        what,
      );
      const found = list.find((c) => c.clientId === clientId);
      return (
        found && {
          id: found.id,
          clientId: found.clientId,
          publicClient: found.publicClient === true,
          bearerOnly: found.bearerOnly === true,
        }
      );
    },

    async readClientSecret(realm, client) {
      const what = `reading the secret of client ${client.clientId} in realm ${realm}`;
      const r = await get(`admin/realms/${seg(realm)}/clients/${seg(client.id)}/client-secret`, what);
      if (!r.ok) throw new KeycloakError(`${what}: HTTP ${r.status}`, r.status);
      const value = (await json<{ value?: unknown }>(r, what)).value;
      if (typeof value !== "string" || value === "") return undefined;
      redactor.register(value);
      return value;
    },
  };
}
