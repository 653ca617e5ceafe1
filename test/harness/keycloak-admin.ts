import type { KeycloakInfo } from "./keycloak.js";
import type { WriteCounter } from "../conformance/cases.js";

interface AdminEvent {
  time: number;
  operationType: string;
  resourcePath?: string;
  realmId?: string;
}

/** What tests do in Keycloak as the master realm's admin: realms, clients, roles, admin events. */
export class KeycloakTestAdmin {
  private token: { value: string; until: number } | undefined;

  constructor(readonly info: KeycloakInfo) {}

  private async bearer(): Promise<string> {
    if (this.token && Date.now() < this.token.until) return this.token.value;
    const res = await fetch(`${this.info.url}/realms/master/protocol/openid-connect/token`, {
      method: "POST",
      body: new URLSearchParams({
        grant_type: "password",
        client_id: "admin-cli",
        username: this.info.adminUser,
        password: this.info.adminPassword,
      }),
    });
    if (!res.ok) throw new Error(`test admin sign-in failed: HTTP ${res.status}`);
    const body = (await res.json()) as { access_token: string; expires_in: number };
    this.token = { value: body.access_token, until: Date.now() + (body.expires_in - 10) * 1000 };
    return body.access_token;
  }

  async request(method: string, path: string, body?: unknown, allowed: number[] = []): Promise<Response> {
    const res = await fetch(`${this.info.url}/admin/realms${path}`, {
      method,
      headers: {
        authorization: `Bearer ${await this.bearer()}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok && !allowed.includes(res.status))
      throw new Error(`Keycloak ${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    return res;
  }

  async get<T>(path: string): Promise<T> {
    return (await (await this.request("GET", path)).json()) as T;
  }

  /** A realm that records admin events: they are how the tests count writes at Keycloak. */
  async createRealm(realm: string): Promise<void> {
    await this.request(
      "POST",
      "",
      { realm, enabled: true, adminEventsEnabled: true, adminEventsDetailsEnabled: false },
      [409],
    );
  }

  async enableAdminEvents(realm: string): Promise<void> {
    const rep = await this.get<Record<string, unknown>>(`/${realm}`);
    if (rep.adminEventsEnabled !== true) await this.request("PUT", `/${realm}`, { ...rep, adminEventsEnabled: true });
  }

  async deleteRealm(realm: string): Promise<void> {
    await this.request("DELETE", `/${realm}`, undefined, [404]);
  }

  async clientUuid(realm: string, clientId: string): Promise<string | undefined> {
    const list = await this.get<Array<{ id: string; clientId: string }>>(
      `/${realm}/clients?clientId=${encodeURIComponent(clientId)}`,
    );
    return list.find((c) => c.clientId === clientId)?.id;
  }

  /** A confidential client; Keycloak generates its secret unless one is given. */
  async createClient(realm: string, clientId: string, extra: Record<string, unknown> = {}): Promise<string> {
    await this.request(
      "POST",
      `/${realm}/clients`,
      {
        clientId,
        enabled: true,
        publicClient: false,
        clientAuthenticatorType: "client-secret",
        standardFlowEnabled: false,
        ...extra,
      },
      [409],
    );
    return (await this.clientUuid(realm, clientId))!;
  }

  async deleteClient(realm: string, clientId: string): Promise<void> {
    const id = await this.clientUuid(realm, clientId);
    if (id) await this.request("DELETE", `/${realm}/clients/${id}`);
  }

  async clientSecret(realm: string, clientId: string): Promise<string> {
    const id = await this.clientUuid(realm, clientId);
    return (await this.get<{ value: string }>(`/${realm}/clients/${id}/client-secret`)).value;
  }

  /** Rotates a client's secret in Keycloak, as an operator would in the console. */
  async regenerateSecret(realm: string, clientId: string): Promise<string> {
    const id = await this.clientUuid(realm, clientId);
    return ((await (await this.request("POST", `/${realm}/clients/${id}/client-secret`)).json()) as { value: string })
      .value;
  }

  /**
   * The extractor: a confidential client with a service account that holds
   * realm-management view-clients, and nothing else.
   */
  async createExtractor(realm: string, clientId: string, secret: string): Promise<void> {
    const id = await this.createClient(realm, clientId, { secret, serviceAccountsEnabled: true });
    const user = await this.get<{ id: string }>(`/${realm}/clients/${id}/service-account-user`);
    const rm = (await this.clientUuid(realm, "realm-management"))!;
    const role = await this.get<Record<string, unknown>>(`/${realm}/clients/${rm}/roles/view-clients`);
    await this.request("POST", `/${realm}/users/${user.id}/role-mappings/clients/${rm}`, [role]);
  }

  async adminEvents(realm: string): Promise<AdminEvent[]> {
    return this.get<AdminEvent[]>(`/${realm}/admin-events?first=0&max=100000`);
  }

  /** Writes at Keycloak, counted by Keycloak: the admin events of the given realms. */
  writeCounter(realms: string[]): WriteCounter {
    const marks: Array<Map<string, number>> = [];
    return {
      mark: async () => {
        const counts = new Map<string, number>();
        for (const r of realms) counts.set(r, (await this.adminEvents(r)).length);
        marks.push(counts);
        return marks.length - 1;
      },
      since: async (mark) => {
        const out: string[] = [];
        for (const r of realms) {
          const events = await this.adminEvents(r);
          // Newest first: the ones past the count at the mark are the new ones.
          const fresh = events.slice(0, Math.max(events.length - (marks[mark]!.get(r) ?? 0), 0));
          out.push(...fresh.map((e) => `keycloak ${r} ${e.operationType} ${e.resourcePath ?? ""}`));
        }
        return out;
      },
    };
  }
}
