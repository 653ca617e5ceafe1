// The slice of Coder's REST API (/api/v2) that coder-admin uses, as plain functions over
// fetch. Errors carry the status and Coder's `message`, masked and bounded, never a body:
// Coder's `detail` can echo internals, and request bodies carry passwords.

import { httpAnswer } from "../../core/errors.js";
import type { Redactor } from "../../core/redact.js";

export type LoginType = "password" | "oidc" | "github" | "none";

export interface CoderUser {
  id: string;
  username: string;
  email: string;
  login_type: LoginType;
  status: "active" | "dormant" | "suspended";
  /** Site-wide roles (owner, user-admin, ...); organization membership is separate. */
  roles: { name: string }[];
}

export interface ApiKey {
  id: string;
  token_name?: string;
  expires_at: string;
}

export class CoderApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    /** httpAnswer's masked, bounded words: "HTTP 409: …". */
    readonly answer: string,
  ) {
    super(`${method} ${path} answered ${answer}`);
    this.name = "CoderApiError";
  }
}

export const isStatus = (err: unknown, ...statuses: number[]): err is CoderApiError =>
  err instanceof CoderApiError && statuses.includes(err.status);

export interface CoderApi {
  firstUserExists(): Promise<boolean>;
  createFirstUser(req: { email: string; username: string; password: string }): Promise<void>;
  /** A short-lived session token for a password user. */
  login(email: string, password: string): Promise<string>;
  logout(token: string): Promise<void>;
  me(token: string): Promise<CoderUser>;
  apiKey(token: string, id: string): Promise<ApiKey>;
  tokens(token: string): Promise<ApiKey[]>;
  deleteApiKey(token: string, id: string): Promise<void>;
  createToken(token: string, name: string, lifetimeHours: number): Promise<string>;
  defaultOrganizationId(token: string): Promise<string>;
  /** Users whose username or email equals `term` (Coder's search is a substring match). */
  usersMatching(token: string, term: string): Promise<CoderUser[]>;
  createUser(
    token: string,
    req: {
      email: string;
      username: string;
      name: string;
      login_type: LoginType;
      organization_ids: string[];
      roles: string[];
      password?: string;
    },
  ): Promise<CoderUser>;
  deleteUser(token: string, id: string): Promise<void>;
  setSiteRoles(token: string, id: string, roles: string[]): Promise<void>;
}

export function coderApi(baseUrl: string, timeoutMs: number, redactor: Redactor): CoderApi {
  const base = baseUrl.replace(/\/+$/, "");

  async function call<T>(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; expect: number[] },
  ): Promise<T> {
    // The path is logged, never the query: a search term can be an email address.
    const shown = path.split("?", 1)[0]!;
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        headers: {
          accept: "application/json",
          ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
          ...(opts.token ? { "coder-session-token": opts.token } : {}),
        },
        ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
      throw new Error(`${method} ${shown} on ${base} failed: ${cause}`);
    }
    const text = await res.text();
    if (!opts.expect.includes(res.status))
      throw new CoderApiError(method, shown, res.status, httpAnswer(redactor, res.status, undefined, messageOf(text)));
    return (text ? JSON.parse(text) : undefined) as T;
  }

  return {
    async firstUserExists() {
      try {
        await call("GET", "/api/v2/users/first", { expect: [200] });
        return true;
      } catch (err) {
        if (isStatus(err, 404)) return false;
        throw err;
      }
    },
    async createFirstUser(req) {
      await call("POST", "/api/v2/users/first", { body: { ...req, trial: false }, expect: [201] });
    },
    async login(email, password) {
      const r = await call<{ session_token: string }>("POST", "/api/v2/users/login", {
        body: { email, password },
        expect: [201],
      });
      return r.session_token;
    },
    async logout(token) {
      await call("POST", "/api/v2/users/logout", { token, expect: [200] });
    },
    me: (token) => call<CoderUser>("GET", "/api/v2/users/me", { token, expect: [200] }),
    apiKey: (token, id) =>
      call<ApiKey>("GET", `/api/v2/users/me/keys/${encodeURIComponent(id)}`, { token, expect: [200] }),
    // Coder answers `null`, not [], when the user has no tokens.
    tokens: async (token) =>
      (await call<ApiKey[] | null>("GET", "/api/v2/users/me/keys/tokens", { token, expect: [200] })) ?? [],
    async deleteApiKey(token, id) {
      await call("DELETE", `/api/v2/users/me/keys/${encodeURIComponent(id)}`, { token, expect: [204] });
    },
    async createToken(token, name, lifetimeHours) {
      // Coder takes the lifetime as a Go duration in nanoseconds.
      const lifetime = lifetimeHours * 3600 * 1e9;
      const r = await call<{ key: string }>("POST", "/api/v2/users/me/keys/tokens", {
        token,
        body: { token_name: name, lifetime },
        expect: [201],
      });
      return r.key;
    },
    async defaultOrganizationId(token) {
      return (await call<{ id: string }>("GET", "/api/v2/organizations/default", { token, expect: [200] })).id;
    },
    async usersMatching(token, term) {
      const r = await call<{ users: CoderUser[] }>("GET", `/api/v2/users?q=${encodeURIComponent(term)}&limit=100`, {
        token,
        expect: [200],
      });
      const t = term.toLowerCase();
      return r.users.filter((u) => u.username.toLowerCase() === t || u.email.toLowerCase() === t);
    },
    createUser: (token, req) => call<CoderUser>("POST", "/api/v2/users", { token, body: req, expect: [201] }),
    async deleteUser(token, id) {
      await call("DELETE", `/api/v2/users/${encodeURIComponent(id)}`, { token, expect: [200] });
    },
    async setSiteRoles(token, id, roles) {
      await call("PUT", `/api/v2/users/${encodeURIComponent(id)}/roles`, { token, body: { roles }, expect: [200] });
    },
  };
}

/** Coder's `message`, whole: httpAnswer masks it before it bounds it. */
function messageOf(text: string): unknown {
  try {
    return (JSON.parse(text) as { message?: unknown }).message;
  } catch {
    return undefined;
  }
}
