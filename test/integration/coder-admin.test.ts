import { Redactor } from "../../steps/core/redact.js";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ExitCode } from "../../steps/core/errors.js";
import { unitPermissions } from "../../steps/runtime/permissions.js";
import { loadUnit } from "../../steps/runtime/unit.js";
import { coderApi, type CoderUser } from "../../steps/kinds/coder-admin/coder-api.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";
import { coderAccounts, coderAdminUnit, startCoderServer, type CoderServer } from "../harness/coder-server.js";
import { connectKube } from "../harness/kube.js";
import { Admin } from "../harness/kube-admin.js";
import { allText, lastLine, runDag, type StepRun } from "../harness/steps.js";

const registry = await loadKinds(kinds);

// coder-admin against a real Coder (AGPL build, v2.36) on a real PostgreSQL. The unit talks
// to Coder through the counting proxy; the test itself reads and breaks Coder directly.
const kube = connectKube(inject("kube"));
const admin = new Admin(kube.adminKubeconfig);
const ns = "kind-coder-admin";
const { owner, ssoAdmin } = coderAccounts();

let coder: CoderServer;
let opts: { kubeconfig: string; namespace: string };

const unit = (withOverrides: Record<string, unknown> = {}) => coderAdminUnit(coder.url, ssoAdmin, withOverrides);

/** The test's own view of Coder: signs in as the owner directly, past the counting proxy. */
async function direct() {
  const api = coderApi(coder.directUrl, 10_000, new Redactor());
  const token = await api.login(owner.email, owner.password);
  const find = async (username: string): Promise<CoderUser | undefined> =>
    (await api.usersMatching(token, username))[0];
  return { api, token, find };
}

async function runUnit(u = unit()) {
  const mark = coder.writes.mark();
  const runs = await runDag(u, opts);
  return { runs, writes: coder.writes.since(mark), ensure: runs.find((r) => r.phase === "ensure-state") };
}

/** Every step succeeded; otherwise the failing step's summary line is the message. */
function expectSuccess(runs: StepRun[]) {
  const failed = runs.find((r) => r.code !== 0);
  expect(
    runs.map((r) => r.code),
    failed && JSON.stringify(lastLine(failed)),
  ).toEqual([0, 0, 0, 0]);
}

/**
 * Coder as the unit wants it (owner, admin, stored token): where a test that changes something
 * starts. With loginTypeDrift: recreate, so an admin an earlier test left with the wrong login
 * type is put right rather than failing the run.
 */
async function seeded(): Promise<void> {
  expectSuccess((await runUnit(unit({ loginTypeDrift: "recreate" }))).runs);
}

/** The admin replaced by a password user of the same name and email, as when someone signed up first. */
async function adminAsPasswordUser(): Promise<void> {
  const { api, token, find } = await direct();
  await api.deleteUser(token, (await find(ssoAdmin.username))!.id);
  await passwordAdmin(api, token);
}

/** A password user with the admin's name and email: someone who signed up before the unit ran. */
async function passwordAdmin(api: ReturnType<typeof coderApi>, token: string): Promise<void> {
  const org = await api.defaultOrganizationId(token);
  await api.createUser(token, {
    ...ssoAdmin,
    name: "",
    login_type: "password",
    organization_ids: [org],
    roles: ["owner"],
    password: `Pw-${randomBytes(12).toString("hex")}`,
  });
}

beforeAll(async () => {
  coder = await startCoderServer();
  console.log(`coder started in ${coder.lastStartMs} ms`);
  await admin.namespace(ns);
  await admin.putSecret(ns, "coder-bootstrap-admin", owner);
  opts = { kubeconfig: await kube.kubeconfigFor(ns, "unit"), namespace: ns };
  await admin.grant(ns, "unit", unitPermissions(loadUnit(unit(), registry), ns));
}, 240_000);

afterAll(async () => {
  await coder?.stop();
});

describe("coder-admin on a real Coder", () => {
  it("closes /setup: the first user from the secrets pipeline, and the SSO admin with login_type oidc and the owner role", async () => {
    const { runs, writes, ensure } = await runUnit();
    expectSuccess(runs);
    expect(ensure?.outputs.action).toBe("created");
    expect(writes).toEqual([
      "coder POST /api/v2/users/first",
      "coder POST /api/v2/users/login",
      "coder POST /api/v2/users/me/keys/tokens",
      "coder POST /api/v2/users/logout",
      "coder POST /api/v2/users",
    ]);
    const { find } = await direct();
    expect(await find(owner.username)).toMatchObject({
      login_type: "password",
      roles: [expect.objectContaining({ name: "owner" })],
    });
    expect(await find(ssoAdmin.username)).toMatchObject({
      email: ssoAdmin.email,
      login_type: "oidc",
      roles: [expect.objectContaining({ name: "owner" })],
    });
    expect(allText(runs)).not.toContain(owner.password);
  });

  it("rests on what this Coder's API allows for login_type (docs/kinds/coder-admin.md's findings)", async () => {
    await seeded();
    const { token, find } = await direct();
    const a = (await find(ssoAdmin.username))!;
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${coder.directUrl}${path}`, {
        method,
        headers: { "coder-session-token": token, "content-type": "application/json" },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return `${method} ${path.replace(a.id, "{id}")} ${res.status} ${((await res.json().catch(() => ({}))) as { message?: string }).message ?? ""}`.trim();
    };
    const org = await coderApi(coder.directUrl, 10_000, new Redactor()).defaultOrganizationId(token);
    expect([
      await call("POST", "/api/v2/users/first", {
        ...owner,
        username: "second-first",
        email: "second@corp.internal",
        trial: false,
      }),
      await call("GET", `/api/v2/users/${a.id}/login-type`),
      await call("PUT", `/api/v2/users/${a.id}/login-type`, { login_type: "password" }),
      await call("PATCH", `/api/v2/users/${a.id}`, { login_type: "password" }),
      await call("POST", `/api/v2/users/${a.id}/convert-login`, { to_type: "github", password: owner.password }),
      await call("POST", "/api/v2/users", {
        email: "x@corp.internal",
        username: "x",
        login_type: "oidc",
        password: owner.password,
        organization_ids: [org],
      }),
      await call("PUT", `/api/v2/users/${a.id}/profile`, { username: ssoAdmin.username, login_type: "password" }),
    ]).toEqual([
      "POST /api/v2/users/first 409 The initial user has already been created.",
      "GET /api/v2/users/{id}/login-type 403 You are not authorized to view this user's login type.",
      "PUT /api/v2/users/{id}/login-type 405",
      "PATCH /api/v2/users/{id} 405",
      "POST /api/v2/users/{id}/convert-login 401 Incorrect email or password.",
      'POST /api/v2/users 400 Password cannot be set for non-password ("oidc") authentication.',
      "PUT /api/v2/users/{id}/profile 200",
    ]);
    // The profile update answered 200 and ignored login_type.
    expect((await find(ssoAdmin.username))!.login_type).toBe("oidc");
  });

  it("changes nothing on a rerun: zero requests that write reach Coder", async () => {
    await seeded();
    const { runs, writes, ensure } = await runUnit();
    expectSuccess(runs);
    expect(ensure?.outputs.action).toBe("unchanged");
    expect(writes).toEqual([]);
  });

  it("brings the owner and the admin back after Coder's database is dropped and recreated", async () => {
    await seeded();
    await coder.resetDatabase();
    expect(await coderApi(coder.directUrl, 10_000, new Redactor()).firstUserExists()).toBe(false);
    const { runs, ensure } = await runUnit();
    expectSuccess(runs);
    expect(ensure?.outputs.action).toBe("created");
    expect(ensure?.stdout).toContain("no longer valid");
    const { find } = await direct();
    expect(await find(ssoAdmin.username)).toMatchObject({ login_type: "oidc" });
  });

  it("grants a role someone removed, and nothing else", async () => {
    await seeded();
    const { api, token, find } = await direct();
    const a = (await find(ssoAdmin.username))!;
    await api.setSiteRoles(token, a.id, ["auditor"]);
    const { runs, writes, ensure } = await runUnit();
    expectSuccess(runs);
    expect(ensure?.outputs.action).toBe("updated");
    expect(writes).toEqual([`coder PUT /api/v2/users/${a.id}/roles`]);
    expect((await find(ssoAdmin.username))!.roles.map((r) => r.name).sort()).toEqual(["auditor", "owner"]);
  });

  it("fails on an admin with the wrong login type, naming the fix, and writes nothing", async () => {
    await seeded();
    await adminAsPasswordUser();
    const { find } = await direct();
    const { runs, writes } = await runUnit();
    expect(runs.at(-1)).toMatchObject({ phase: "ensure-state", code: ExitCode.ensureFailed });
    expect(runs.at(-1)!.stdout).toContain("has login_type password, want oidc");
    expect(runs.at(-1)!.stdout).toContain("loginTypeDrift: recreate");
    expect(writes).toEqual([]);
    expect((await find(ssoAdmin.username))!.login_type).toBe("password");
  });

  it("logs what it wrote before such a failure: after a reset it issues a token, then stops at the admin", async () => {
    await coder.resetDatabase();
    const api = coderApi(coder.directUrl, 10_000, new Redactor());
    await api.createFirstUser(owner);
    const { api: as, token } = await direct();
    await passwordAdmin(as, token);
    const { runs, writes } = await runUnit();
    const ensure = runs.at(-1)!;
    expect(ensure).toMatchObject({ phase: "ensure-state", code: ExitCode.ensureFailed });
    expect(writes).toEqual([
      "coder POST /api/v2/users/login",
      "coder POST /api/v2/users/me/keys/tokens",
      "coder POST /api/v2/users/logout",
    ]);
    expect(ensure.stdout).toMatch(
      /"event":"state.changed".*issued Coder API token reseed-coder-first-admin of the owner/,
    );
    // The failed step's summary (its last line, the summary output, the Event) lists the writes next to the failure.
    expect(lastLine(ensure)).toMatchObject({
      result: "failed",
      changes: [
        expect.stringMatching(
          /^issued Coder API token reseed-coder-first-admin of the owner \(the stored owner API token is no longer valid/,
        ),
        `updated key token in Kubernetes Secret ${ns}/coder-reseed-session`,
      ],
    });
  });

  it("recreates an admin with the wrong login type when the unit declares loginTypeDrift: recreate", async () => {
    await seeded();
    await adminAsPasswordUser();
    const { find } = await direct();
    const before = (await find(ssoAdmin.username))!;
    const { runs, writes, ensure } = await runUnit(unit({ loginTypeDrift: "recreate" }));
    expectSuccess(runs);
    expect(ensure?.stdout).toContain("loginTypeDrift: recreate");
    expect(writes).toEqual([`coder DELETE /api/v2/users/${before.id}`, "coder POST /api/v2/users"]);
    const after = (await find(ssoAdmin.username))!;
    expect(after).toMatchObject({ login_type: "oidc", roles: [expect.objectContaining({ name: "owner" })] });
    expect(after.id).not.toBe(before.id);
  });

  it("fails naming the fix when Coder's first user was created by hand with other credentials", async () => {
    await coder.resetDatabase();
    const api = coderApi(coder.directUrl, 10_000, new Redactor());
    await api.createFirstUser({
      email: "someone@corp.internal",
      username: "someone",
      password: `Pw-${randomBytes(12).toString("hex")}`,
    });
    const { runs, writes } = await runUnit();
    expect(runs.at(-1)).toMatchObject({ phase: "ensure-state", code: ExitCode.ensureFailed });
    expect(runs.at(-1)!.stdout).toContain("cannot sign in to Coder with the password from the secrets pipeline");
    expect(writes).toEqual(["coder POST /api/v2/users/login"]);
  });
});
