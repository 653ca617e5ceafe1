import type { CoderUser, LoginType } from "./coder-api.js";

// Pure decisions for coder-admin: what to do with the admin user Coder has, and when the
// owner's stored API token must be replaced. No I/O here; test/unit covers every branch.

export type LoginTypeDrift = "fail" | "recreate";

export interface DesiredAdmin {
  email: string;
  username: string;
  loginType: Exclude<LoginType, "password" | "none">;
  /** Site roles the admin must hold; roles someone else granted are kept. */
  roles: string[];
}

export type AdminPlan =
  | { action: "none" }
  | { action: "create" }
  | { action: "grant"; user: CoderUser; roles: string[]; added: string[] }
  | { action: "recreate"; user: CoderUser }
  | { action: "fail"; problem: string; fix: string };

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/**
 * `found` holds the users whose username or email equals the desired one. A wrong login
 * type is never corrected silently: Coder has no API to change another user's login type,
 * so the only correction is delete-and-create, which the unit must ask for.
 */
export function planAdmin(found: CoderUser[], want: DesiredAdmin, drift: LoginTypeDrift): AdminPlan {
  const byName = found.find((u) => same(u.username, want.username));
  const byEmail = found.find((u) => same(u.email, want.email));
  if (!byName && !byEmail) return { action: "create" };
  if (byName && byEmail && byName.id !== byEmail.id) {
    return {
      action: "fail",
      problem: `username ${want.username} and email ${want.email} belong to two different Coder users`,
      fix: "rename or delete one of them in Coder (Deployment → Users), or correct the admin identity in the unit",
    };
  }
  const user = (byName ?? byEmail)!;
  if (!same(user.username, want.username) || !same(user.email, want.email)) {
    return {
      action: "fail",
      problem: `Coder user ${user.username} <${user.email}> matches the admin only in part (want ${want.username} <${want.email}>)`,
      fix: "make the unit's admin email and username match that user, or change the user's username or email in Coder",
    };
  }
  if (user.status === "suspended") {
    return {
      action: "fail",
      problem: `Coder user ${user.username} is suspended`,
      fix: `activate it in Coder (Deployment → Users → Activate, or PUT /api/v2/users/${user.username}/status/activate); reseed does not undo a suspension`,
    };
  }
  if (user.login_type !== want.loginType) {
    if (drift === "recreate") return { action: "recreate", user };
    return {
      action: "fail",
      problem: `Coder user ${user.username} has login_type ${user.login_type}, want ${want.loginType}: signing in with ${want.loginType} fails with "Incorrect login type"`,
      fix:
        `set loginTypeDrift: recreate in the unit to delete and recreate the user with login_type ${want.loginType} ` +
        `(Coder has no API to change another user's login type; a user who owns workspaces cannot be deleted), ` +
        `or have the user convert the account in Coder (Account → Security) with its password`,
    };
  }
  const have = user.roles.map((r) => r.name);
  const added = want.roles.filter((r) => !have.includes(r));
  if (added.length) return { action: "grant", user, roles: [...have, ...added], added };
  return { action: "none" };
}

/** Whether a token expiring at `expiresAt` must be replaced: when less than a third of its lifetime is left. */
export function tokenNeedsRenewal(expiresAt: string, now: Date, lifetimeHours: number): boolean {
  const left = Date.parse(expiresAt) - now.getTime();
  return !(left > (lifetimeHours * 3600_000) / 3);
}

/** Coder API keys read `<id>-<secret>`; the id names the key in /users/me/keys/{id}. */
export function apiKeyId(token: string): string | undefined {
  const m = /^([A-Za-z0-9]+)-[A-Za-z0-9]+$/.exec(token);
  return m?.[1];
}
