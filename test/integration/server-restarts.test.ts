// Servers that go away and come back (docs/faults.md): OpenBao restarted on its own storage,
// the connection to Keycloak cut mid-run, Coder's database reset. Each row asserts what the
// fault matrix asserts: (a) nothing that existed is lost or half-written, (b) the failing run
// exits with the contract's code and names the fault with no secret in any output, (c) the
// next run converges, (d) its rerun writes nothing, counted at the server.
//
// The OpenBao and the Coder here are this file's own (only processes it started are stopped);
// Keycloak is the shared one, and only the proxy in front of it cuts connections, because a
// second Keycloak start would cost 90-110 s.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ExitCode } from "../../steps/core/errors.js";
import { Redactor } from "../../steps/core/redact.js";
import { coderApi } from "../../steps/kinds/coder-admin/coder-api.js";
import { describeLeak, findLeaks } from "../conformance/leak-hunt.js";
import { authorityStepEnv, caBundle, configureKubernetesAuth, projectedToken } from "../harness/authorities.js";
import { coderAccounts, coderAdminUnit, startCoderServer, type CoderServer } from "../harness/coder-server.js";
import { startFaultProxy, type FaultProxy } from "../harness/fault-proxy.js";
import { KeycloakTestAdmin } from "../harness/keycloak-admin.js";
import { Admin } from "../harness/kube-admin.js";
import { connectKube } from "../harness/kube.js";
import { OpenBaoAdmin, OpenBaoAudit, startPersistentOpenBao, type PersistentOpenBao } from "../harness/openbao.js";
import { codes, lastLine, runDag, type StepRun } from "../harness/steps.js";
import { unitKubeconfig } from "../harness/units.js";

const kubeInfo = inject("kube");
const kube = connectKube(kubeInfo);
const admin = new Admin(kube.adminKubeconfig);
const files = join(kubeInfo.kubeconfigDir, "server-restarts");

const asUnit = (ns: string, u: unknown) => unitKubeconfig(kube, admin, ns, u);

/** What the unit's ServiceAccount wrote to the API server since the mark, Events (evidence, not state) aside. */
async function kubeWrites(ns: string, mark: number): Promise<string[]> {
  return (await kube.writesSince(mark, { namespace: ns, user: `system:serviceaccount:${ns}:unit` }))
    .filter((w) => w.resource !== "events")
    .map((w) => `${w.verb} ${w.resource}/${w.name}`);
}

/** No secret, whole or in part, in any encoding, in anything the steps printed or output. */
function expectNoLeak(secrets: Record<string, string>, runs: StepRun[]): void {
  const evidence = runs.flatMap((r) => [
    { where: `${r.phase} stdout`, text: r.stdout },
    { where: `${r.phase} stderr`, text: r.stderr },
    { where: `${r.phase} termination log`, text: r.termination ?? "" },
    ...Object.entries(r.outputs).map(([name, text]) => ({ where: `${r.phase} output ${name}`, text })),
  ]);
  expect(findLeaks(secrets, evidence).map(describeLeak)).toEqual([]);
}

/** (b): the failing step's exit code, its summary line names the fault. */
function expectNamedFailure(run: StepRun, code: number, fault: RegExp): void {
  expect(run.code, run.stdout).toBe(code);
  expect(lastLine(run)).toMatchObject({ result: "failed", exitCode: code });
  expect(JSON.stringify(lastLine(run).problems)).toMatch(fault);
}

describe("OpenBao restarted (a file-storage OpenBao of this file's own; generated-secret in Vault)", () => {
  let bao: PersistentOpenBao;
  let baoAdmin: OpenBaoAdmin;
  let audit: OpenBaoAudit;
  let proxy: FaultProxy;
  let opts: { kubeconfig: string; namespace: string; env: Record<string, string> };
  const ns = "restart-openbao";
  const tokenFile = join(files, "restart-openbao.token");
  const gen = (path: string, address: string, waitTimeoutSeconds = 30) => ({
    apiVersion: "reseed.dev/v1alpha1",
    kind: "SeedingUnit",
    metadata: { name: "vault-password" },
    spec: {
      pattern: "reconciler",
      waitTimeoutSeconds,
      ensure: {
        kind: "generated-secret",
        with: {
          vault: { address, path, auth: { kubernetes: { role: "restarts", tokenFile } } },
          keys: [{ name: "password" }, { name: "api-key" }],
        },
      },
    },
  });

  beforeAll(async () => {
    bao = await startPersistentOpenBao();
    baoAdmin = new OpenBaoAdmin(bao.info);
    audit = new OpenBaoAudit(bao.info.auditLog);
    await configureKubernetesAuth(bao.info, kubeInfo);
    await baoAdmin.policy(
      "restarts",
      'path "secret/data/restarts/*" { capabilities = ["create", "read", "update"] }\npath "secret/metadata/restarts/*" { capabilities = ["create", "read", "update"] }',
    );
    await baoAdmin.kubernetesRole("restarts", { namespace: ns, name: "unit" }, ["restarts"]);
    await projectedToken(kubeInfo, ns, "unit", { file: tokenFile });
    proxy = await startFaultProxy({ upstream: bao.info.address, upstreamCaFile: bao.info.caFile });
    opts = {
      kubeconfig: await asUnit(ns, gen("restarts/x", bao.info.address)),
      namespace: ns,
      env: authorityStepEnv(await caBundle([bao.info.caFile, proxy.caFile], files)),
    };
  }, 120_000);
  afterAll(async () => {
    await proxy?.stop();
    await bao?.stop();
  });

  /** (c) and (d): the next run converges keeping `kept`, its rerun writes nothing at OpenBao. */
  async function convergesKeeping(path: string, kept: Record<string, string>): Promise<void> {
    const u = gen(path, bao.info.address);
    expect(codes(await runDag(u, opts))).toEqual([0, 0, 0, 0]);
    const data = (await baoAdmin.kvGet("secret", path))!.data;
    expect(data).toMatchObject(kept);
    expect(data["api-key"]).toMatch(/^[A-Za-z0-9]{32}$/);
    await quietRerun(u, path);
  }

  /**
   * (d): a run of `u` is unchanged and OpenBao's audit log shows no write. The audit device
   * did record the run (its read of `path`, to the same file across restarts), so the empty
   * list has teeth.
   */
  async function quietRerun(u: ReturnType<typeof gen>, path: string): Promise<StepRun[]> {
    const mark = await audit.mark();
    const rerun = await runDag(u, opts);
    expect(codes(rerun)).toEqual([0, 0, 0, 0]);
    expect(rerun[2]!.outputs.action).toBe("unchanged");
    expect(await audit.since(mark)).toEqual([]);
    expect(await audit.requestsSince(mark)).toContain(`read secret/data/${path}`);
    return rerun;
  }

  it("restarted between two runs: the generated values survive, and the run after the restart writes nothing", async () => {
    const path = "restarts/between";
    const u = gen(path, bao.info.address);
    const first = await runDag(u, opts);
    expect(codes(first)).toEqual([0, 0, 0, 0]);
    expect(first[2]!.outputs.action).toBe("created");
    const before = (await baoAdmin.kvGet("secret", path))!;
    await bao.restart();
    // (a) the same values, the same version: the restart lost nothing and wrote nothing.
    expect(await baoAdmin.kvGet("secret", path)).toEqual(before);
    const after = await quietRerun(u, path);
    expect(await baoAdmin.kvGet("secret", path)).toEqual(before);
    expectNoLeak(before.data, [...first, ...after]);
  });

  it("stopped between read and write, run while down, run while sealed: each fails by name writing nothing; unsealed, the next run converges", async () => {
    const path = "restarts/mid-run";
    const human = `set-before-${randomBytes(8).toString("hex")}`;
    await baoAdmin.kvPut("secret", path, { password: human });
    let vaultToken = "";
    const hooked = proxy.intercept(
      (r) => (r.method === "POST" || r.method === "PUT") && r.path === `/v1/secret/data/${path}`,
      async (req) => {
        vaultToken = String(req.headers["x-vault-token"]);
        await bao.stopProcess();
        return "forward";
      },
    );
    const started = Date.now();
    const midRun = await runDag(gen(path, proxy.url), opts);
    await hooked;
    // Bounded: the step does not hang on a server that is gone.
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(codes(midRun)).toEqual([0, 0, ExitCode.ensureFailed]);
    expectNamedFailure(midRun[2]!, ExitCode.ensureFailed, /\(check-and-set version 1\): (socket hang up|ECONNRESET)/);

    // Down: wait-deps names the refused connection within its timeout, and ensure never runs.
    const down = await runDag(gen(path, bao.info.address, 2), opts);
    expect(codes(down)).toEqual([0, ExitCode.dependencyTimeout]);
    expectNamedFailure(down[1]!, ExitCode.dependencyTimeout, /connect ECONNREFUSED/);

    // Started again but sealed, as every restart leaves it until someone unseals it.
    await bao.startSealed();
    const sealed = await runDag(gen(path, bao.info.address, 2), opts);
    expect(codes(sealed)).toEqual([0, ExitCode.dependencyTimeout]);
    expectNamedFailure(sealed[1]!, ExitCode.dependencyTimeout, /not ready after \d+ attempts: is sealed/);

    await bao.unseal();
    // (a) the value from before is all there is: version 1, nothing generated landed.
    expect(await baoAdmin.kvGet("secret", path)).toMatchObject({ data: { password: human }, version: 1 });
    expect(vaultToken.length).toBeGreaterThan(10);
    expectNoLeak({ human, vaultToken, rootToken: bao.info.rootToken, unsealKey: bao.info.unsealKey }, [
      ...midRun,
      ...down,
      ...sealed,
    ]);
    await convergesKeeping(path, { password: human });
  });
});

describe("the connection to Keycloak cut mid-run (the fault proxy in front of the real Keycloak; keycloak-client-secret)", () => {
  const kc = new KeycloakTestAdmin(inject("keycloak"));
  const ns = "restart-keycloak";
  const realm = "restarts";
  const extractorSecret = `extractor-${randomBytes(12).toString("hex")}`;
  let proxy: FaultProxy;
  let kubeconfig = "";
  const unit = () => ({
    apiVersion: "reseed.dev/v1alpha1",
    kind: "SeedingUnit",
    metadata: { name: "grafana-oidc" },
    spec: {
      pattern: "extraction",
      waitTimeoutSeconds: 30,
      inputs: { extractorSecret: { secretKeyRef: { name: "keycloak-extractor", key: "client-secret" } } },
      ensure: {
        kind: "keycloak-client-secret",
        with: {
          url: proxy.url,
          realm,
          clientId: "grafana",
          auth: { clientId: "reseed-extractor", clientSecret: { input: "extractorSecret" } },
          sink: { kubernetesSecret: { name: "grafana-oidc" } },
        },
      },
    },
  });

  beforeAll(async () => {
    proxy = await startFaultProxy({ upstream: kc.info.url });
    await kc.enableAdminEvents("master");
    await kc.createRealm(realm);
    await kc.createExtractor(realm, "reseed-extractor", extractorSecret);
    await kc.createClient(realm, "grafana");
    kubeconfig = await asUnit(ns, unit());
    await admin.putSecret(ns, "keycloak-extractor", { "client-secret": extractorSecret });
  });
  afterAll(async () => {
    await proxy?.stop();
  });

  async function writes(fn: () => Promise<StepRun[]>) {
    const counter = kc.writeCounter([realm, "master"]);
    const kcMark = await counter.mark();
    const kubeMark = await kube.auditMark();
    const runs = await fn();
    return { runs, keycloak: await counter.since(kcMark), kube: await kubeWrites(ns, kubeMark) };
  }

  it.each([
    {
      at: "the token request",
      match: (r: { method: string; path: string }) =>
        r.method === "POST" && r.path === `/realms/${realm}/protocol/openid-connect/token`,
    },
    {
      at: "the read of the client secret",
      match: (r: { method: string; path: string }) => r.method === "GET" && r.path.endsWith("/client-secret"),
    },
  ])(
    "cut at $at: ensure fails naming the lost connection, the published copy is untouched, the next run converges and its rerun writes nothing",
    async ({ match }) => {
      // Published, then rotated in Keycloak: the run that is cut is one that has something to write.
      expect(codes(await runDag(unit(), { kubeconfig, namespace: ns }))).toEqual([0, 0, 0, 0]);
      const published = (await admin.readSecret(ns, "grafana-oidc"))!;
      const rotated = await kc.regenerateSecret(realm, "grafana");
      let accessToken = "";
      const hooked = proxy.intercept(match, async (req) => {
        accessToken = String(req.headers.authorization ?? "");
        return "reset";
      });
      const cut = await writes(() => runDag(unit(), { kubeconfig, namespace: ns }));
      await hooked;
      expect(codes(cut.runs)).toEqual([0, 0, ExitCode.ensureFailed]);
      expectNamedFailure(cut.runs[2]!, ExitCode.ensureFailed, /failed: (UND_ERR_SOCKET other side closed|ECONNRESET)/);
      // (a) nothing half-written: the published copy is what it was, no write anywhere.
      expect(await admin.readSecret(ns, "grafana-oidc")).toEqual(published);
      expect(cut.kube).toEqual([]);
      expect(cut.keycloak).toEqual([]);
      expectNoLeak(
        {
          extractorSecret,
          rotated,
          published: published["client-secret"]!,
          ...(accessToken ? { accessToken: accessToken.replace(/^Bearer /, "") } : {}),
        },
        cut.runs,
      );
      // (c) the next run publishes the rotated secret; (d) its rerun writes nothing.
      const next = await writes(() => runDag(unit(), { kubeconfig, namespace: ns }));
      expect(codes(next.runs)).toEqual([0, 0, 0, 0]);
      expect(next.runs[2]!.outputs.action).toBe("updated");
      expect(next.kube).toEqual(["update secrets/grafana-oidc"]);
      expect((await admin.readSecret(ns, "grafana-oidc"))?.["client-secret"]).toBe(rotated);
      const rerun = await writes(() => runDag(unit(), { kubeconfig, namespace: ns }));
      expect(codes(rerun.runs)).toEqual([0, 0, 0, 0]);
      expect(rerun.runs[2]!.outputs.action).toBe("unchanged");
      expect(rerun.kube).toEqual([]);
      expect(rerun.keycloak).toEqual([]);
    },
  );
});

describe("Coder's database reset between two runs (a Coder of this file's own; coder-admin)", () => {
  const ns = "restart-coder";
  const { owner, ssoAdmin } = coderAccounts();
  let coder: CoderServer;
  let kubeconfig = "";
  const unit = () => coderAdminUnit(coder.url, ssoAdmin);

  beforeAll(async () => {
    coder = await startCoderServer();
    kubeconfig = await asUnit(ns, unit());
    await admin.putSecret(ns, "coder-bootstrap-admin", owner);
  }, 240_000);
  afterAll(async () => {
    await coder?.stop();
  });

  async function run() {
    const coderMark = coder.writes.mark();
    const kubeMark = await kube.auditMark();
    const runs = await runDag(unit(), { kubeconfig, namespace: ns });
    return { runs, coder: coder.writes.since(coderMark), kube: await kubeWrites(ns, kubeMark) };
  }

  it("re-bootstraps the owner and the SSO admin, and the run right after that writes nothing at Coder or Kubernetes", async () => {
    expect(codes((await run()).runs)).toEqual([0, 0, 0, 0]);
    const session = (await admin.readSecret(ns, "coder-reseed-session"))!;
    await coder.resetDatabase();
    const api = coderApi(coder.directUrl, 10_000, new Redactor());
    expect(await api.firstUserExists()).toBe(false);

    const after = await run();
    expect(codes(after.runs)).toEqual([0, 0, 0, 0]);
    expect(after.runs[2]!.outputs.action).toBe("created");
    expect(after.coder).toEqual([
      "coder POST /api/v2/users/first",
      "coder POST /api/v2/users/login",
      "coder POST /api/v2/users/me/keys/tokens",
      "coder POST /api/v2/users/logout",
      "coder POST /api/v2/users",
    ]);
    // The stored token was for the old database: it is replaced, in place.
    expect(after.kube).toEqual(["update secrets/coder-reseed-session"]);
    const token = await api.login(owner.email, owner.password);
    const [found] = await api.usersMatching(token, ssoAdmin.username);
    expect(found).toMatchObject({ email: ssoAdmin.email, login_type: "oidc", roles: [{ name: "owner" }] });
    const stored = (await admin.readSecret(ns, "coder-reseed-session"))!;
    expect(stored.token).not.toBe(session.token);

    // The missing assertion of the reset row: convergence right after a reset is stable.
    const rerun = await run();
    expect(codes(rerun.runs)).toEqual([0, 0, 0, 0]);
    expect(rerun.runs[2]!.outputs.action).toBe("unchanged");
    expect(rerun.coder).toEqual([]);
    expect(rerun.kube).toEqual([]);
    expectNoLeak({ password: owner.password, oldToken: session.token!, token: stored.token! }, [
      ...after.runs,
      ...rerun.runs,
    ]);
  });
});
