import * as z from "../../core/zod.js";
import { ExitCode, SeedError } from "../../core/errors.js";
import { defineKind, seedingPatterns, type Check, type KindContext } from "../kind.js";
import { inputValue } from "../../core/spec.js";
import { openStore, secretLocation, storeAccess } from "../../stores/index.js";
import { coderApi, isStatus, type CoderApi } from "./coder-api.js";
import { planAdmin, type AdminPlan, type DesiredAdmin } from "./plan.js";
import { ownerToken, storedOwnerToken, type Owner } from "./session.js";
import { httpUrl } from "../../core/url.js";

const REQUEST_TIMEOUT_MS = 15_000;
const siteRoles = ["owner", "user-admin", "template-admin", "auditor"] as const;

const settings = z.strictObject({
  url: httpUrl.check(z.describe("Coder's address as the step pods reach it, e.g. http://coder.coder.svc:8080")),
  owner: z
    .strictObject({
      email: inputValue,
      username: inputValue,
      password: z
        .strictObject({ input: z.string().check(z.minLength(1)) })
        .check(z.describe("Must name a secret input (secretKeyRef): never a literal.")),
    })
    .check(
      z.describe(
        "Coder's first user, created through the /setup API: owner role, password login. Its credentials come from the secrets pipeline.",
      ),
    ),
  admin: z
    .optional(
      z.strictObject({
        email: inputValue,
        username: inputValue,
        loginType: z._default(z.enum(["oidc", "github"]), "oidc"),
        roles: z._default(z.array(z.enum(siteRoles)).check(z.minLength(1)), ["owner"]),
      }),
    )
    .check(
      z.describe(
        "The SSO admin the owner creates with this login type (SSO-only deployments). Omit it when the first user is the admin.",
      ),
    ),
  loginTypeDrift: z
    ._default(z.enum(["fail", "recreate"]), "fail")
    .check(
      z.describe(
        "An existing admin with another login type: fail naming the fix, or delete and recreate it (Coder cannot change a user's login type).",
      ),
    ),
  session: secretLocation.check(
    z.describe(
      "Where the unit keeps the owner's API token between runs; a run that changes nothing then signs in with nothing.",
    ),
  ),
  tokenLifetimeHours: z
    ._default(z.number().check(z.int(), z.minimum(24), z.maximum(8760)), 168)
    .check(
      z.describe(
        "Lifetime of the owner API token, at most Coder's CODER_MAX_ADMIN_TOKEN_LIFETIME (default 168h); replaced when a third of it is left.",
      ),
    ),
});
type Settings = z.infer<typeof settings>;

const tokenName = (ctx: KindContext) => `reseed-${ctx.unit.metadata.name}`;

function owner(ctx: KindContext, s: Settings): Owner {
  return {
    email: ctx.value(s.owner.email),
    username: ctx.value(s.owner.username),
    password: ctx.value(s.owner.password),
  };
}

function desiredAdmin(ctx: KindContext, s: Settings, o: Owner): DesiredAdmin | undefined {
  if (!s.admin) return undefined;
  const want = {
    email: ctx.value(s.admin.email),
    username: ctx.value(s.admin.username),
    loginType: s.admin.loginType,
    roles: s.admin.roles,
  };
  if (want.username.toLowerCase() === o.username.toLowerCase() || want.email.toLowerCase() === o.email.toLowerCase()) {
    throw new SeedError(
      ExitCode.invalidSpec,
      "the admin and the owner are the same Coder user",
      `the owner signs in with a password, the admin with ${want.loginType}: give the owner its own email and username (a break-glass account)`,
    );
  }
  return want;
}

async function findAdmin(api: CoderApi, token: string, want: DesiredAdmin) {
  const found = [...(await api.usersMatching(token, want.username)), ...(await api.usersMatching(token, want.email))];
  return found.filter((u, i) => found.findIndex((v) => v.id === u.id) === i);
}

/**
 * Coder's application database is the authority (application-db: the first user is state
 * the database holds, and a database reset loses it).
 * Ensures the first user exists, and in SSO-only deployments that the admin exists with the
 * SSO login type and its roles, so an OIDC sign-in does not meet "Incorrect login type".
 */
export const coderAdmin = defineKind<Settings>({
  kind: "coder-admin",
  authority: "application-db",
  description:
    "Coder's first user (/setup) and, for SSO-only deployments, an admin with login_type oidc, re-created after a database reset.",
  patterns: seedingPatterns,
  spec: settings,
  inputs: [
    { path: ["owner", "email"] },
    { path: ["owner", "username"] },
    { path: ["owner", "password"], mustBe: "secret" },
    { path: ["admin", "email"] },
    { path: ["admin", "username"] },
  ],
  dependencies: (s) => [{ http: { url: `${s.url.replace(/\/+$/, "")}/api/v2/buildinfo` } }],
  access: storeAccess(["session"], "write"),

  ensure: ensureCoder,

  async verify(ctx, s) {
    const api = coderApi(s.url, REQUEST_TIMEOUT_MS, ctx.redactor);
    const o = owner(ctx, s);
    const want = desiredAdmin(ctx, s, o);
    const checks: Check[] = [];
    const first = await api.firstUserExists();
    checks.push({ name: "Coder first user", ok: first, detail: first ? "exists" : "does not exist: /setup is open" });
    const store = openStore(s.session, ctx);
    const token = first ? await storedOwnerToken(api, store) : undefined;
    if (!token) {
      checks.push({
        name: `owner API token in ${store.describe()}`,
        ok: false,
        detail: "missing or not accepted by Coder",
      });
      return checks;
    }
    const me = await api.me(token);
    const isOwner = me.username.toLowerCase() === o.username.toLowerCase() && me.roles.some((r) => r.name === "owner");
    checks.push({
      name: `Coder owner ${o.username}`,
      ok: isOwner,
      detail: isOwner
        ? `login_type ${me.login_type}, role owner`
        : `token belongs to ${me.username} with roles ${me.roles.map((r) => r.name).join(", ") || "none"}`,
    });
    if (want) {
      const plan = planAdmin(await findAdmin(api, token, want), want, "fail");
      checks.push({
        name: `Coder admin ${want.username}`,
        ok: plan.action === "none",
        detail: describePlan(plan, want),
      });
    }
    return checks;
  },
});

/** Each write to Coder is recorded as it succeeds: a run that fails on the admin still shows the first user and token it made. */
async function ensureCoder(ctx: KindContext, s: Settings): Promise<void> {
  const api = coderApi(s.url, REQUEST_TIMEOUT_MS, ctx.redactor);
  const o = owner(ctx, s);
  const want = desiredAdmin(ctx, s, o);

  if (!(await api.firstUserExists())) {
    try {
      await api.createFirstUser(o);
      // Named by role, not by username: the username is often a secret input, and masked.
      ctx.record({ verb: "created", object: "Coder's first user", note: "owner, login_type password" });
    } catch (err) {
      // 409: another writer finished /setup between the read and the write; sign-in decides whose it is.
      if (!isStatus(err, 409)) throw err;
    }
  }

  const token = await ownerToken(ctx, api, openStore(s.session, ctx), o, {
    tokenName: tokenName(ctx),
    lifetimeHours: s.tokenLifetimeHours,
    now: new Date(),
  });

  if (want) {
    const plan = planAdmin(await findAdmin(api, token, want), want, s.loginTypeDrift);
    if (plan.action === "fail") throw new SeedError(ExitCode.ensureFailed, plan.problem, plan.fix);
    if (plan.action === "recreate") {
      try {
        await api.deleteUser(token, plan.user.id);
      } catch (err) {
        if (isStatus(err, 417)) {
          throw new SeedError(
            ExitCode.ensureFailed,
            `cannot recreate Coder user ${plan.user.username} with login_type ${want.loginType}: it owns workspaces`,
            "delete or transfer its workspaces, or have the user convert the account in Coder (Account → Security)",
          );
        }
        throw err;
      }
      ctx.record({
        verb: "deleted",
        object: `Coder user ${plan.user.username}`,
        note: `login_type ${plan.user.login_type}; loginTypeDrift: recreate`,
      });
    }
    if (plan.action === "create" || plan.action === "recreate") {
      const org = await api.defaultOrganizationId(token);
      await api.createUser(token, {
        email: want.email,
        username: want.username,
        name: "",
        login_type: want.loginType,
        organization_ids: [org],
        roles: want.roles,
      });
      ctx.record({
        verb: "created",
        object: `Coder user ${want.username}`,
        note: `login_type ${want.loginType}, roles ${want.roles.join(", ")}`,
      });
    }
    if (plan.action === "grant") {
      await api.setSiteRoles(token, plan.user.id, plan.roles);
      ctx.record({
        verb: "updated",
        object: `Coder user ${plan.user.username}`,
        note: `granted ${plan.added.join(", ")}`,
      });
    }
  }
}

/** What verify reports for the admin: the state found, in the words of the plan that would fix it. */
function describePlan(plan: AdminPlan, want: DesiredAdmin): string {
  switch (plan.action) {
    case "none":
      return `login_type ${want.loginType}, roles include ${want.roles.join(", ")}`;
    case "create":
      return "does not exist";
    case "grant":
      return `lacks roles ${plan.added.join(", ")}`;
    case "recreate":
      return `has login_type ${plan.user.login_type}`;
    case "fail":
      return plan.problem;
  }
}
