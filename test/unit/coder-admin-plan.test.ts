import { describe, expect, it } from "vitest";
import type { SeedError } from "../../steps/core/errors.js";
import { accessRules } from "../../steps/core/access.js";
import { loadUnit } from "../../steps/runtime/unit.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";
import type { CoderUser } from "../../steps/kinds/coder-admin/coder-api.js";
import { apiKeyId, planAdmin, tokenNeedsRenewal, type DesiredAdmin } from "../../steps/kinds/coder-admin/plan.js";

const registry = await loadKinds(kinds);

const want: DesiredAdmin = { email: "ada@corp.internal", username: "ada", loginType: "oidc", roles: ["owner"] };
const user = (over: Partial<CoderUser> = {}): CoderUser => ({
  id: "u1",
  username: "ada",
  email: "ada@corp.internal",
  login_type: "oidc",
  status: "dormant",
  roles: [{ name: "owner" }],
  ...over,
});

describe("coder-admin plan", () => {
  it("creates the admin when no user has its username or email", () => {
    expect(planAdmin([], want, "fail")).toEqual({ action: "create" });
  });

  it("does nothing when the admin holds the login type and roles (the zero-write rerun)", () => {
    expect(planAdmin([user()], want, "fail")).toEqual({ action: "none" });
    expect(planAdmin([user({ username: "Ada", email: "ADA@corp.internal", status: "active" })], want, "fail")).toEqual({
      action: "none",
    });
  });

  it("grants missing roles and keeps roles someone else granted", () => {
    const p = planAdmin(
      [user({ roles: [{ name: "auditor" }] })],
      { ...want, roles: ["owner", "template-admin"] },
      "fail",
    );
    expect(p).toMatchObject({
      action: "grant",
      roles: ["auditor", "owner", "template-admin"],
      added: ["owner", "template-admin"],
    });
  });

  it("fails on a wrong login type by default, naming both fixes", () => {
    const p = planAdmin([user({ login_type: "password" })], want, "fail");
    expect(p).toMatchObject({ action: "fail" });
    const { problem, fix } = p as Extract<typeof p, { action: "fail" }>;
    expect(problem).toContain("login_type password, want oidc");
    expect(problem).toContain("Incorrect login type");
    expect(fix).toContain("loginTypeDrift: recreate");
    expect(fix).toContain("Account → Security");
  });

  it("recreates on a wrong login type only when the unit says so", () => {
    const u = user({ login_type: "password" });
    expect(planAdmin([u], want, "recreate")).toEqual({ action: "recreate", user: u });
  });

  it("checks identity and suspension before the login type, whatever the drift setting", () => {
    const other = user({ id: "u2", username: "someone", email: "ada@corp.internal" });
    expect(planAdmin([user({ email: "x@corp.internal" }), other], want, "recreate")).toMatchObject({
      action: "fail",
      problem: expect.stringContaining("two different"),
    });
    expect(planAdmin([user({ email: "ada2@corp.internal", login_type: "password" })], want, "recreate")).toMatchObject({
      action: "fail",
      problem: expect.stringContaining("in part"),
    });
    expect(planAdmin([user({ status: "suspended", login_type: "password" })], want, "recreate")).toMatchObject({
      action: "fail",
      problem: expect.stringContaining("suspended"),
    });
  });

  it("renews the owner token when less than a third of its lifetime is left", () => {
    const now = new Date("2026-11-01T00:00:00Z");
    const inDays = (d: number) => new Date(now.getTime() + d * 86_400_000).toISOString();
    expect(tokenNeedsRenewal(inDays(29), now, 720)).toBe(false);
    expect(tokenNeedsRenewal(inDays(11), now, 720)).toBe(false);
    expect(tokenNeedsRenewal(inDays(9), now, 720)).toBe(true);
    expect(tokenNeedsRenewal(inDays(-1), now, 720)).toBe(true);
    expect(tokenNeedsRenewal("not a date", now, 720)).toBe(true);
  });

  it("reads the key id from a Coder API token", () => {
    expect(apiKeyId("AbC123xyz0-s3cr3tPart")).toBe("AbC123xyz0");
    expect(apiKeyId("no-dash-shape-")).toBeUndefined();
    expect(apiKeyId("")).toBeUndefined();
  });
});

describe("coder-admin spec", () => {
  const doc = (inputs: Record<string, unknown>, password: unknown) => ({
    apiVersion: "reseed.dev/v1alpha1",
    kind: "SeedingUnit",
    metadata: { name: "coder-admin" },
    spec: {
      pattern: "reconciler",
      inputs,
      ensure: {
        kind: "coder-admin",
        with: {
          url: "http://coder.coder.svc:8080",
          owner: { email: "o@corp.internal", username: "owner", password },
          session: { kubernetesSecret: { name: "s" } },
        },
      },
    },
  });
  const problems = (d: unknown) => {
    try {
      loadUnit(d, registry);
      return [];
    } catch (err) {
      return (err as SeedError).problems.map((p) => `${p.subject}: ${p.message}`);
    }
  };

  it("takes the owner password only from a secret input", () => {
    expect(problems(doc({ pw: { secretKeyRef: { name: "b", key: "password" } } }, { input: "pw" }))).toEqual([]);
    expect(problems(doc({}, "a-literal-password")).join("\n")).toContain("spec.ensure.with.owner.password");
    expect(problems(doc({ pw: { env: "PW" } }, { input: "pw" }))).toEqual([
      "spec.inputs.pw: kind coder-admin takes a secret here: take it from secretKeyRef, vault or keyVault (an env or file input needs secret: true)",
    ]);
  });

  it("waits for Coder's API and needs only its session store", () => {
    const l = loadUnit(doc({ pw: { secretKeyRef: { name: "b", key: "password" } } }, { input: "pw" }), registry);
    expect(l.kind.dependencies(l.settings, "ns")).toEqual([
      { http: { url: "http://coder.coder.svc:8080/api/v2/buildinfo" } },
    ]);
    expect(
      accessRules(l.kind.access, l.settings, "ns").map(
        (r) => `${r.resources.join()} ${r.verbs.join()} ${r.resourceNames?.join() ?? "*"}`,
      ),
    ).toEqual(["secrets get,update,patch s", "secrets create *"]);
    expect(l.settings).toMatchObject({ loginTypeDrift: "fail", tokenLifetimeHours: 168 });
  });
});
