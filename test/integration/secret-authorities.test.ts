// Vault (the real OpenBao) and Key Vault (the fake, see test/harness/fake-key-vault.ts) as
// sources and sinks: every direction of secret-sync, drift both ways, missing source keys,
// auth failures, a sealed or unreachable Vault, generate-once into an external authority,
// and the vault/keyVault input sources.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { ExitCode } from "../../steps/core/errors.js";
import {
  authorityStepEnv,
  caBundle,
  fakeKeyVault,
  KeyVaultAdmin,
  vaultUnitRole,
  workloadIdentity,
} from "../harness/authorities.js";
import { authorityServers } from "../harness/authority-servers.js";
import type { FakeKeyVault } from "../harness/fake-key-vault.js";
import { freePorts } from "../harness/processes.js";
import { codes, lastLine, problemsOf, runDag, type StepRun } from "../harness/steps.js";
import { seedingUnit as unit, unitKubeconfig, type SeedingUnit as Unit } from "../harness/units.js";

const { kubeInfo, baoInfo, kube, admin, bao, audit, files } = authorityServers("secret-authorities");
let azure: FakeKeyVault;
let bundle = "";

const asUnit = async (ns: string, u: Unit) => ({ kubeconfig: await unitKubeconfig(kube, admin, ns, u), namespace: ns });

beforeAll(async () => {
  azure = await fakeKeyVault(kubeInfo);
  bundle = await caBundle([baoInfo.caFile, azure.caFile], files);
});

describe("secret-sync Key Vault -> Key Vault (curated)", () => {
  const ns = "sync-kv-kv";
  let src: KeyVaultAdmin;
  let dst: KeyVaultAdmin;
  let env: Record<string, string>;
  const sync = (
    drift: "correct" | "report",
    keys: unknown[] = ["ghcr-token", { from: "openai-api-key", to: "openai-key" }],
  ) =>
    unit("keyvault-sync", {
      kind: "secret-sync",
      with: { from: { keyVault: { url: src.url } }, to: { keyVault: { url: dst.url } }, keys, drift },
    });
  const run = async (u: Unit, extraEnv: Record<string, string> = env) =>
    runDag(u, { ...(await asUnit(ns, u)), env: { ...authorityStepEnv(bundle), ...extraEnv } });

  beforeAll(async () => {
    src = new KeyVaultAdmin(azure, (await azure.addVault("kv-shared")).url);
    dst = new KeyVaultAdmin(azure, (await azure.addVault("kv-platform")).url);
    env = await workloadIdentity(azure, kubeInfo, ns, "unit", files);
    azure.vault("kv-shared").allow(env.AZURE_CLIENT_ID!, ["get"]);
    azure.vault("kv-platform").allow(env.AZURE_CLIENT_ID!, ["get", "set"]);
    await src.put("ghcr-token", "ghp_sourceValue000001");
    await src.put("openai-api-key", "sk-sourceValue000002");
    await src.put("not-curated", "never-copied-000003");
  });

  it("copies only the listed keys, renamed, then writes nothing on a rerun (counted at the vault)", async () => {
    const first = await run(sync("correct"));
    expect(codes(first)).toEqual([0, 0, 0, 0]);
    expect(first[2]!.outputs.action).toBe("created");
    expect(azure.vault("kv-platform").names()).toEqual(["ghcr-token", "openai-key"]);
    expect(azure.vault("kv-platform").peek("openai-key")).toMatchObject({
      value: "sk-sourceValue000002",
      tags: { "managed-by": "reseed", "reseed-unit": "keyvault-sync" },
    });
    const mark = azure.mark();
    const again = await run(sync("correct"));
    expect(again[2]!.outputs.action).toBe("unchanged");
    expect(azure.writesSince(mark)).toEqual([]);
  });

  it("corrects drift with drift: correct, writing only the drifted key", async () => {
    expect(codes(await run(sync("correct")))).toEqual([0, 0, 0, 0]);
    await dst.put("ghcr-token", "hand-edited-in-portal", { owner: "platform" });
    const mark = azure.mark();
    const runs = await run(sync("correct"));
    expect(codes(runs)).toEqual([0, 0, 0, 0]);
    expect(runs[2]!.stdout).toContain("corrected drift in ghcr-token");
    expect(azure.writesSince(mark)).toEqual(["keyvault PUT kv-platform /secrets/ghcr-token"]);
    expect(azure.vault("kv-platform").peek("ghcr-token")).toMatchObject({
      value: "ghp_sourceValue000001",
      tags: { owner: "platform", "managed-by": "reseed" },
    });
  });

  it("only reports drift with drift: report: no write, and verify fails naming the key", async () => {
    expect(codes(await run(sync("correct")))).toEqual([0, 0, 0, 0]);
    await dst.put("openai-key", "rotated-by-hand-0004");
    const mark = azure.mark();
    const runs = await run(sync("report"));
    expect(codes(runs)).toEqual([0, 0, 0, ExitCode.verifyFailed]);
    expect(runs[2]!.stdout).toContain('"event":"drift.reported","key":"openai-key"');
    expect(problemsOf(runs[3]!)).toContain("openai-key");
    expect(problemsOf(runs[3]!)).toContain("drift: report leaves it");
    expect(azure.writesSince(mark)).toEqual([]);
    expect(azure.vault("kv-platform").peek("openai-key")?.value).toBe("rotated-by-hand-0004");
  });

  it("fails by name when a listed source key is missing, and writes nothing at all", async () => {
    await dst.destroy("ghcr-token");
    const mark = azure.mark();
    const runs = await run(sync("correct", ["ghcr-token", "no-such-key", "also-missing"]));
    expect(codes(runs)).toEqual([0, 0, ExitCode.missingInput]);
    expect(problemsOf(runs[2]!)).toContain('"subject":"no-such-key"');
    expect(problemsOf(runs[2]!)).toContain('"subject":"also-missing"');
    expect(azure.writesSince(mark)).toEqual([]);
    expect(azure.vault("kv-platform").peek("ghcr-token")).toBeUndefined();
  });

  it("names the missing workload identity wiring at validate-inputs, with the other missing inputs, before any call", async () => {
    const u = unit(
      "keyvault-sync",
      {
        kind: "secret-sync",
        with: {
          from: { keyVault: { url: src.url } },
          to: { keyVault: { url: dst.url } },
          keys: ["ghcr-token"],
          drift: "correct",
        },
      },
      {
        inputs: { region: { configMapKeyRef: { name: "absent", key: "region" } } },
      },
    );
    const mark = azure.mark();
    const runs = await run(u, { AZURE_TENANT_ID: env.AZURE_TENANT_ID! });
    expect(codes(runs)).toEqual([ExitCode.missingInput]);
    const subjects = (lastLine(runs[0]!).problems as { subject: string }[]).map((p) => p.subject);
    expect(subjects).toEqual(["env AZURE_CLIENT_ID", "env AZURE_FEDERATED_TOKEN_FILE", "region"]);
    expect(azure.requestsSince(mark)).toEqual([]);
  });

  it("fails ensure with the vault's reason when the identity may not write, and when Entra refuses the federation", async () => {
    await dst.destroy("ghcr-token");
    azure.vault("kv-platform").revoke(env.AZURE_CLIENT_ID!);
    azure.vault("kv-platform").allow(env.AZURE_CLIENT_ID!, ["get"]);
    const forbidden = await run(sync("correct"));
    expect(codes(forbidden)).toEqual([0, 0, ExitCode.ensureFailed]);
    expect(problemsOf(forbidden[2]!)).toContain("HTTP 403 Forbidden");
    expect(problemsOf(forbidden[2]!)).toContain("does not have secrets set permission");
    azure.vault("kv-platform").allow(env.AZURE_CLIENT_ID!, ["set"]);

    const stranger = await run(sync("correct"), { ...env, AZURE_CLIENT_ID: "app-never-federated" });
    expect(codes(stranger)).toEqual([0, 0, ExitCode.ensureFailed]);
    expect(problemsOf(stranger[2]!)).toContain("AADSTS700016");
    const federatedToken = (await readFile(env.AZURE_FEDERATED_TOKEN_FILE!, "utf8")).trim();
    expect([...forbidden, ...stranger].map((r) => r.stdout + r.stderr).join()).not.toContain(federatedToken);
  });
});

describe("secret-sync Key Vault -> Kubernetes (prefix, prune)", () => {
  const ns = "sync-kv-k8s";
  let src: KeyVaultAdmin;
  let env: Record<string, string>;
  const sync = (prune: boolean) =>
    unit("workspace-fanout", {
      kind: "secret-sync",
      with: {
        from: { keyVault: { url: src.url } },
        to: { kubernetesSecret: { name: "workspace-env" } },
        prefix: { from: "ws-", to: "" },
        drift: "correct",
        prune,
      },
    });
  const run = async (u: Unit) => runDag(u, { ...(await asUnit(ns, u)), env: { ...authorityStepEnv(bundle), ...env } });

  beforeAll(async () => {
    src = new KeyVaultAdmin(azure, (await azure.addVault("kv-workspaces")).url);
    env = await workloadIdentity(azure, kubeInfo, ns, "unit", files);
    azure.vault("kv-workspaces").allow(env.AZURE_CLIENT_ID!, ["get", "list"]);
    await src.put("ws-github-token", "ghp_workspace000005");
    await src.put("ws-npm-token", "npm_workspace000006");
    await src.put("platform-only", "not-for-workspaces-7");
  });

  it("copies every key under the prefix, renamed, and leaves keys it does not own alone", async () => {
    await admin.putSecret(ns, "workspace-env", { "kept-by-someone": "their-value-0008" });
    expect(codes(await run(sync(false)))).toEqual([0, 0, 0, 0]);
    expect(await admin.readSecret(ns, "workspace-env")).toEqual({
      "kept-by-someone": "their-value-0008",
      "github-token": "ghp_workspace000005",
      "npm-token": "npm_workspace000006",
    });
  });

  it("never deletes without prune, and deletes only keys the source dropped with it", async () => {
    await admin.putSecret(ns, "workspace-env", { "kept-by-someone": "their-value-0008" });
    expect(codes(await run(sync(false)))).toEqual([0, 0, 0, 0]);
    await src.destroy("ws-npm-token");
    await src.put("ws-npm", "npm_renamed000009");
    await run(sync(false));
    expect(Object.keys((await admin.readSecret(ns, "workspace-env")) ?? {}).sort()).toEqual([
      "github-token",
      "kept-by-someone",
      "npm",
      "npm-token",
    ]);
    const mark = await kube.auditMark();
    const pruned = await run(sync(true));
    expect(codes(pruned)).toEqual([0, 0, 0, 0]);
    expect(pruned[2]!.stdout).toContain("pruned kept-by-someone");
    expect(Object.keys((await admin.readSecret(ns, "workspace-env")) ?? {}).sort()).toEqual(["github-token", "npm"]);
    expect(
      (await kube.writesSince(mark, { user: `system:serviceaccount:${ns}:unit` })).filter(
        (w) => w.resource === "secrets",
      ),
    ).toHaveLength(1);
  });
});

describe("secret-sync with Vault", () => {
  const ns = "sync-vault";
  const tokenFile = join(files, "sync-vault.token");
  const vaultTo = (path: string) => ({
    vault: { address: baoInfo.address, path, auth: { kubernetes: { role: "sync-vault", tokenFile } } },
  });
  const run = async (u: Unit, env: Record<string, string> = {}) =>
    runDag(u, { ...(await asUnit(ns, u)), env: { ...authorityStepEnv(bundle), ...env } });

  beforeAll(async () => {
    await vaultUnitRole(
      bao,
      kubeInfo,
      ns,
      "sync-vault",
      'path "secret/data/sync/*" { capabilities = ["create", "read", "update"] }',
      tokenFile,
    );
    await admin.namespace(ns);
    await admin.putSecret(ns, "app", { "db-password": "from-kubernetes-0010", "api-token": "from-kubernetes-0011" });
  });

  it("Kubernetes -> Vault: writes with check-and-set, corrects drift, and makes no Vault write on a rerun", async () => {
    const u = unit("app-to-vault", {
      kind: "secret-sync",
      with: {
        from: { kubernetesSecret: { name: "app" } },
        to: vaultTo("sync/app"),
        keys: ["db-password", "api-token"],
        drift: "correct",
      },
    });
    expect(codes(await run(u))).toEqual([0, 0, 0, 0]);
    expect((await bao.kvGet("secret", "sync/app"))?.data).toEqual({
      "db-password": "from-kubernetes-0010",
      "api-token": "from-kubernetes-0011",
    });
    let mark = await audit.mark();
    expect((await run(u))[2]!.outputs.action).toBe("unchanged");
    expect(await audit.since(mark)).toEqual([]);
    await bao.kvPut("secret", "sync/app", {
      "db-password": "edited-in-vault-0012",
      "api-token": "from-kubernetes-0011",
      extra: "kept-0013",
    });
    mark = await audit.mark();
    const corrected = await run(u);
    expect(corrected[2]!.stdout).toContain("corrected drift in db-password");
    expect(await audit.since(mark)).toEqual(["vault update secret/data/sync/app"]);
    expect((await bao.kvGet("secret", "sync/app"))?.data).toEqual({
      "db-password": "from-kubernetes-0010",
      "api-token": "from-kubernetes-0011",
      extra: "kept-0013",
    });
  });

  it("Vault -> Kubernetes with drift: report leaves the edited key and fails verify naming it", async () => {
    await bao.kvPut("secret", "sync/ws", { token: "vault-value-000014" });
    const u = unit("ws-from-vault", {
      kind: "secret-sync",
      with: { from: vaultTo("sync/ws"), to: { kubernetesSecret: { name: "ws" } }, keys: ["token"], drift: "report" },
    });
    expect(codes(await run(u))).toEqual([0, 0, 0, 0]);
    await admin.putSecret(ns, "ws", { token: "edited-in-cluster-15" });
    const runs = await run(u);
    expect(codes(runs)).toEqual([0, 0, 0, ExitCode.verifyFailed]);
    expect((await admin.readSecret(ns, "ws"))?.token).toBe("edited-in-cluster-15");
    expect(problemsOf(runs[3]!)).toContain("Kubernetes Secret sync-vault/ws token");
  });

  it("fails ensure with Vault's reason when the ServiceAccount's role does not allow the path", async () => {
    const u = unit("forbidden-path", {
      kind: "secret-sync",
      with: {
        from: { kubernetesSecret: { name: "app" } },
        to: vaultTo("forbidden/app"),
        keys: ["db-password"],
        drift: "correct",
      },
    });
    const runs = await run(u);
    expect(codes(runs)).toEqual([0, 0, ExitCode.ensureFailed]);
    expect(problemsOf(runs[2]!)).toContain("HTTP 403: permission denied");
  });

  it("fails the kubernetes login by name when the role is not bound to the ServiceAccount", async () => {
    await bao.kubernetesRole("someone-else", { namespace: "other", name: "other" }, ["sync-vault"]);
    const from = {
      vault: { address: baoInfo.address, path: "sync/ws", auth: { kubernetes: { role: "someone-else", tokenFile } } },
    };
    const runs = await run(
      unit("wrong-role", {
        kind: "secret-sync",
        with: { from, to: { kubernetesSecret: { name: "ws2" } }, keys: ["token"], drift: "correct" },
      }),
    );
    expect(codes(runs)).toEqual([0, 0, ExitCode.ensureFailed]);
    expect(problemsOf(runs[2]!)).toContain("kubernetes login as role someone-else");
    expect(problemsOf(runs[2]!)).toContain("HTTP 403");
  });

  it("waits for a sealed Vault until its deadline and names it, then runs once it is unsealed", async () => {
    const u = unit(
      "sealed",
      {
        kind: "secret-sync",
        with: {
          from: vaultTo("sync/ws"),
          to: { kubernetesSecret: { name: "ws3" } },
          keys: ["token"],
          drift: "correct",
        },
      },
      { waitTimeoutSeconds: 3 },
    );
    await bao.kvPut("secret", "sync/ws", { token: "vault-value-000014" });
    await bao.seal();
    let runs: StepRun[];
    try {
      const started = Date.now();
      runs = await run(u);
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await bao.unseal();
    }
    expect(codes(runs)).toEqual([0, ExitCode.dependencyTimeout]);
    expect(problemsOf(runs[1]!)).toContain(`vault ${baoInfo.address}`);
    expect(problemsOf(runs[1]!)).toContain("is sealed");
    expect(codes(await run(u))).toEqual([0, 0, 0, 0]);
  });

  it("names an unreachable Vault at wait-deps, bounded", async () => {
    const [port] = await freePorts(1);
    const down = {
      vault: {
        address: `https://127.0.0.1:${port}`,
        path: "sync/ws",
        auth: { kubernetes: { role: "sync-vault", tokenFile } },
      },
    };
    const runs = await run(
      unit(
        "down",
        {
          kind: "secret-sync",
          with: { from: down, to: { kubernetesSecret: { name: "ws4" } }, keys: ["token"], drift: "correct" },
        },
        { waitTimeoutSeconds: 2 },
      ),
    );
    expect(codes(runs)).toEqual([0, ExitCode.dependencyTimeout]);
    expect(problemsOf(runs[1]!)).toContain("ECONNREFUSED");
  });
});

describe("generated-secret into an external authority", () => {
  it("Vault: generates once, and a recreated cluster (a new namespace, same Vault path) gets the same value back", async () => {
    const gen = (ns: string, rotationId?: string) =>
      unit("coder-db-password", {
        kind: "generated-secret",
        with: {
          vault: {
            address: baoInfo.address,
            path: "generated/coder-db",
            auth: { kubernetes: { role: `gen-${ns}`, tokenFile: join(files, `${ns}.token`) } },
          },
          keys: [{ name: "password" }],
          ...(rotationId ? { rotationId } : {}),
        },
      });
    for (const ns of ["cluster-a", "cluster-b"]) {
      await vaultUnitRole(
        bao,
        kubeInfo,
        ns,
        `gen-${ns}`,
        'path "secret/data/generated/*" { capabilities = ["create", "read", "update"] }\npath "secret/metadata/generated/*" { capabilities = ["create", "read", "update"] }',
        join(files, `${ns}.token`),
      );
    }
    const env = authorityStepEnv(bundle);
    const first = await runDag(gen("cluster-a"), { ...(await asUnit("cluster-a", gen("cluster-a"))), env });
    expect(first[2]!.outputs.action).toBe("created");
    const value = (await bao.kvGet("secret", "generated/coder-db"))?.data.password;
    const mark = await audit.mark();
    const recreated = await runDag(gen("cluster-b"), { ...(await asUnit("cluster-b", gen("cluster-b"))), env });
    expect(recreated[2]!.outputs.action).toBe("unchanged");
    expect(await audit.since(mark)).toEqual([]);
    expect((await bao.kvGet("secret", "generated/coder-db"))?.data.password).toBe(value);

    const adopted = await runDag(gen("cluster-b", "r1"), {
      ...(await asUnit("cluster-b", gen("cluster-b", "r1"))),
      env,
    });
    expect(adopted[2]!.stdout).toContain("adopted existing values under rotationId r1");
    expect((await bao.kvGet("secret", "generated/coder-db"))?.data.password).toBe(value);
    const rotated = await runDag(gen("cluster-b", "r2"), {
      ...(await asUnit("cluster-b", gen("cluster-b", "r2"))),
      env,
    });
    expect(rotated[2]!.stdout).toContain("rotated password (rotationId r1 -> r2)");
    const after = await bao.kvGet("secret", "generated/coder-db");
    expect(after?.data.password).not.toBe(value);
    expect(after?.customMetadata["reseed-rotation-id"]).toBe("r2");
  });

  it("Vault: a run that writes the value and is then refused the metadata names the write it made, next to the refusal", async () => {
    const ns = "gen-half";
    const u = unit("half-written", {
      kind: "generated-secret",
      with: {
        vault: {
          address: baoInfo.address,
          path: "half/app",
          auth: { kubernetes: { role: `gen-${ns}`, tokenFile: join(files, `${ns}.token`) } },
        },
        keys: [{ name: "password" }],
      },
    });
    // The policy lets the unit write the secret's data but not its metadata: OpenBao itself refuses the second write.
    await vaultUnitRole(
      bao,
      kubeInfo,
      ns,
      `gen-${ns}`,
      'path "secret/data/half/*" { capabilities = ["create", "read", "update"] }\npath "secret/metadata/half/*" { capabilities = ["read"] }',
      join(files, `${ns}.token`),
    );
    const mark = await audit.mark();
    const runs = await runDag(u, { ...(await asUnit(ns, u)), env: authorityStepEnv(bundle) });
    expect(codes(runs)).toEqual([0, 0, ExitCode.ensureFailed]);
    // Counted at OpenBao: the data write went through, the metadata write was refused.
    const counted = await audit.since(mark);
    expect(counted.filter((w) => !w.includes("permission denied"))).toEqual(["vault create secret/data/half/app"]);
    expect(counted.filter((w) => w.includes("permission denied"))).toEqual([
      expect.stringMatching(/^vault (create|update) secret\/metadata\/half\/app /),
    ]);
    const written = `Vault ${baoInfo.address} secret/half/app`;
    const summary = lastLine(runs[2]!);
    expect(summary).toMatchObject({ result: "failed", changes: [`created ${written} with key password`] });
    expect(problemsOf(runs[2]!)).toContain("permission denied");
    expect(summary.msg).toContain(`written before the failure: created ${written} with key password`);
    expect(JSON.parse(runs[2]!.outputs.summary!)).toMatchObject({
      phase: "ensure-state",
      result: "failed",
      changes: [`created ${written} with key password`],
    });
    expect(runs[2]!.stdout).toMatch(
      /"event":"state.changed","verb":"created","object":"Vault [^"]+ secret\/half\/app","keys":\["password"\]/,
    );
    expect((await bao.kvGet("secret", "half/app"))?.data.password).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it("Key Vault: keeps a value that exists, creates only what is absent, and recovers a deleted secret with its old value", async () => {
    const ns = "gen-kv";
    const vault = new KeyVaultAdmin(azure, (await azure.addVault("kv-generated")).url);
    const env = await workloadIdentity(azure, kubeInfo, ns, "unit", files);
    azure.vault("kv-generated").allow(env.AZURE_CLIENT_ID!, ["get", "set", "recover"]);
    await vault.put("coder-admin-password", "set-by-a-human-0016");
    const u = unit("coder-admin", {
      kind: "generated-secret",
      with: {
        keyVault: { url: vault.url },
        keys: [{ name: "coder-admin-password" }, { name: "coder-api-key", length: 40 }],
      },
    });
    const opts = { ...(await asUnit(ns, u)), env: { ...authorityStepEnv(bundle), ...env } };
    let mark = azure.mark();
    const runs = await runDag(u, opts);
    expect(codes(runs)).toEqual([0, 0, 0, 0]);
    expect(azure.writesSince(mark)).toEqual(["keyvault PUT kv-generated /secrets/coder-api-key"]);
    expect((await vault.get("coder-admin-password"))?.value).toBe("set-by-a-human-0016");
    const generated = (await vault.get("coder-api-key"))?.value;
    expect(generated).toMatch(/^[A-Za-z0-9]{40}$/);

    await vault.softDelete("coder-api-key");
    mark = azure.mark();
    const recovered = await runDag(u, opts);
    expect(codes(recovered)).toEqual([0, 0, 0, 0]);
    expect(recovered[2]!.stdout).toContain("recovered soft-deleted coder-api-key (value kept)");
    // Recovered, never purged, never set: the value every consumer was given comes back.
    expect(azure.writesSince(mark)).toEqual(["keyvault POST kv-generated /deletedsecrets/coder-api-key/recover"]);
    expect((await vault.get("coder-api-key"))?.value).toBe(generated);
    // Recovery is long-running: the step polled the secret until it answered.
    const sinceMark = azure.requestsSince(mark);
    const afterRecover = sinceMark.slice(sinceMark.findIndex((r) => r.method === "POST") + 1);
    const polls = afterRecover
      .filter((r) => r.method === "GET" && r.path === "/secrets/coder-api-key/")
      .map((r) => r.status);
    expect(polls[0]).toBe(404);
    expect(polls).toContain(200);
    expect(recovered.map((r) => r.stdout + r.stderr).join()).not.toContain(generated);

    mark = azure.mark();
    expect(codes(await runDag(u, opts))).toEqual([0, 0, 0, 0]);
    expect(azure.writesSince(mark)).toEqual([]);
  });

  it("Key Vault: a deleted secret the identity may not recover fails ensure naming the recover permission and the fix, writing nothing", async () => {
    const ns = "gen-kv-norecover";
    const vault = new KeyVaultAdmin(azure, (await azure.addVault("kv-norecover")).url);
    const env = await workloadIdentity(azure, kubeInfo, ns, "unit", files);
    azure.vault("kv-norecover").allow(env.AZURE_CLIENT_ID!, ["get", "set"]);
    await vault.put("coder-api-key", "generated-earlier-0031", { "managed-by": "reseed" });
    await vault.softDelete("coder-api-key");
    const u = unit("coder-admin", {
      kind: "generated-secret",
      with: { keyVault: { url: vault.url }, keys: [{ name: "coder-api-key" }] },
    });
    const mark = azure.mark();
    const runs = await runDag(u, { ...(await asUnit(ns, u)), env: { ...authorityStepEnv(bundle), ...env } });
    expect(codes(runs)).toEqual([0, 0, ExitCode.ensureFailed]);
    expect(problemsOf(runs[2]!)).toContain("recover soft-deleted Key Vault");
    expect(problemsOf(runs[2]!)).toContain("does not have secrets recover permission");
    expect(problemsOf(runs[2]!)).toContain("grant the unit's identity the secrets recover permission");
    expect(azure.writesSince(mark)).toEqual([]);
    expect(azure.vault("kv-norecover").deletedNames()).toEqual(["coder-api-key"]);
  });

  it("Key Vault: a vault name the endpoint does not know fails naming the vault, and writes nothing", async () => {
    const ns = "gen-kv-typo";
    const real = await azure.addVault("kv-real");
    const typo = real.url.replace("kv-real", "kv-reel");
    const env = await workloadIdentity(azure, kubeInfo, ns, "unit", files);
    real.allow(env.AZURE_CLIENT_ID!, ["get", "set", "list", "recover"]);
    const stepEnv = { ...authorityStepEnv(bundle), ...env };
    const gen = unit("typo-gen", {
      kind: "generated-secret",
      with: { keyVault: { url: typo }, keys: [{ name: "coder-api-key" }] },
    });
    const sync = unit("typo-sync", {
      kind: "secret-sync",
      with: {
        from: { keyVault: { url: typo } },
        to: { kubernetesSecret: { name: "typo" } },
        keys: ["ghcr-token"],
        drift: "correct",
      },
    });
    const input = unit(
      "typo-input",
      { kind: "generated-secret", with: { secret: { name: "typo-input" }, keys: [{ name: "k" }] } },
      { inputs: { token: { keyVault: { url: typo, name: "ghcr-token" } } } },
    );
    const mark = azure.mark();
    const kubeMark = await kube.auditMark();
    const [gens, syncs, inputs] = [
      await runDag(gen, { ...(await asUnit(ns, gen)), env: stepEnv }),
      await runDag(sync, { ...(await asUnit(ns, sync)), env: stepEnv }),
      await runDag(input, { ...(await asUnit(ns, input)), env: stepEnv }),
    ];
    expect(codes(gens)).toEqual([0, 0, ExitCode.ensureFailed]);
    expect(codes(syncs)).toEqual([0, 0, ExitCode.ensureFailed]);
    expect(codes(inputs)).toEqual([ExitCode.missingInput]);
    for (const p of [problemsOf(gens[2]!), problemsOf(syncs[2]!), problemsOf(inputs[0]!)]) {
      expect(p).toContain(`Key Vault ${typo} was not found (HTTP 404 VaultNotFound`);
      expect(p).toContain("this is not a missing secret");
      expect(p).not.toContain("is missing in");
    }
    expect(azure.writesSince(mark)).toEqual([]);
    expect(azure.requestsSince(mark).filter((r) => r.vault === "kv-reel" && r.status === 404)).not.toEqual([]);
    expect(
      (await kube.writesSince(kubeMark, { user: `system:serviceaccount:${ns}:unit` })).filter(
        (w) => w.resource === "secrets",
      ),
    ).toEqual([]);
  });
});

describe("Key Vault soft delete and API version, through secret-sync", () => {
  it("prune, then the key comes back at the source: the next run recovers it and writes only if it differs, then writes nothing", async () => {
    const ns = "sync-kv-prune";
    const src = new KeyVaultAdmin(azure, (await azure.addVault("kv-prune-src")).url);
    const dst = await azure.addVault("kv-prune-dst");
    const env = await workloadIdentity(azure, kubeInfo, ns, "unit", files);
    azure.vault("kv-prune-src").allow(env.AZURE_CLIENT_ID!, ["get", "list"]);
    dst.allow(env.AZURE_CLIENT_ID!, ["get", "list", "set", "delete", "recover"]);
    await src.put("ws-github", "ghp_prune00000001");
    await src.put("ws-stale", "stale-value-000002");
    const u = unit("app-fanout", {
      kind: "secret-sync",
      with: {
        from: { keyVault: { url: src.url } },
        to: { keyVault: { url: dst.url } },
        prefix: { from: "ws-", to: "app-ws-" },
        drift: "correct",
        prune: true,
      },
    });
    const opts = { ...(await asUnit(ns, u)), env: { ...authorityStepEnv(bundle), ...env } };
    expect(codes(await runDag(u, opts))).toEqual([0, 0, 0, 0]);
    expect(dst.names()).toEqual(["app-ws-github", "app-ws-stale"]);

    await src.destroy("ws-stale");
    const pruned = await runDag(u, opts);
    expect(codes(pruned)).toEqual([0, 0, 0, 0]);
    expect(dst.deletedNames()).toEqual(["app-ws-stale"]);

    // Back with the value it had: recovered, nothing written after.
    await src.put("ws-stale", "stale-value-000002");
    let mark = azure.mark();
    const same = await runDag(u, opts);
    expect(codes(same)).toEqual([0, 0, 0, 0]);
    expect(same[2]!.stdout).toContain("recovered soft-deleted app-ws-stale (equal to the source)");
    expect(azure.writesSince(mark)).toEqual(["keyvault POST kv-prune-dst /deletedsecrets/app-ws-stale/recover"]);

    // Pruned again, back with a new value: recovered, then that one key written.
    await src.destroy("ws-stale");
    expect(codes(await runDag(u, opts))).toEqual([0, 0, 0, 0]);
    await src.put("ws-stale", "stale-value-new-0003");
    mark = azure.mark();
    const differs = await runDag(u, opts);
    expect(codes(differs)).toEqual([0, 0, 0, 0]);
    expect(differs[2]!.stdout).toContain("recovered soft-deleted app-ws-stale and wrote the source's value");
    expect(azure.writesSince(mark)).toEqual([
      "keyvault POST kv-prune-dst /deletedsecrets/app-ws-stale/recover",
      "keyvault PUT kv-prune-dst /secrets/app-ws-stale",
    ]);
    expect(dst.peek("app-ws-stale")).toMatchObject({
      value: "stale-value-new-0003",
      tags: { "managed-by": "reseed", "reseed-unit": "app-fanout" },
    });

    mark = azure.mark();
    expect(codes(await runDag(u, opts))).toEqual([0, 0, 0, 0]);
    expect(azure.writesSince(mark)).toEqual([]);
  });

  it("a vault that accepts only an older API version: unpinned, list paging fails with the hint; pinned, every request carries the version, paging included", async () => {
    const ns = "sync-kv-pinned";
    const lagging = await azure.addVault("kv-lagging", { apiVersions: ["7.3", "7.4"] });
    const src = new KeyVaultAdmin(azure, lagging.url, "7.4");
    const env = await workloadIdentity(azure, kubeInfo, ns, "unit", files);
    lagging.allow(env.AZURE_CLIENT_ID!, ["get", "list"]);
    // More keys than one page (25), so the listing follows a nextLink.
    for (let i = 0; i < 30; i++)
      await src.put(`ws-key-${String(i).padStart(2, "0")}`, `paged-value-${String(i).padStart(4, "0")}`);
    const u = (apiVersion?: string) =>
      unit("paged", {
        kind: "secret-sync",
        with: {
          from: { keyVault: { url: lagging.url, ...(apiVersion ? { apiVersion } : {}) } },
          to: { kubernetesSecret: { name: "paged" } },
          prefix: { from: "ws-" },
          drift: "correct",
        },
      });
    const run = async (v?: string) =>
      runDag(u(v), { ...(await asUnit(ns, u(v))), env: { ...authorityStepEnv(bundle), ...env } });

    const unpinned = await run();
    expect(codes(unpinned)).toEqual([0, 0, ExitCode.ensureFailed]);
    expect(problemsOf(unpinned[2]!)).toContain("HTTP 400");
    expect(problemsOf(unpinned[2]!)).toContain("pin keyVault.apiVersion");

    const mark = azure.mark();
    const pinned = await run("7.4");
    expect(codes(pinned)).toEqual([0, 0, 0, 0]);
    expect(Object.keys((await admin.readSecret(ns, "paged")) ?? {})).toHaveLength(30);
    const sent = azure.requestsSince(mark).filter((r) => r.vault === "kv-lagging");
    expect(sent.length).toBeGreaterThan(60);
    expect([...new Set(sent.map((r) => r.apiVersion))]).toEqual(["7.4"]);
    const pages = sent.filter((r) => r.path === "/secrets" && r.status === 200);
    expect(pages.filter((r) => r.query.includes("$skiptoken"))).not.toEqual([]);
    expect(pages.filter((r) => !r.query.includes("$skiptoken"))).not.toEqual([]);
  });
});

describe("vault and keyVault inputs", () => {
  it("resolves both at validate-inputs as secrets, and names each that is missing", async () => {
    const ns = "inputs-authorities";
    const tokenFile = join(files, "inputs.token");
    await vaultUnitRole(
      bao,
      kubeInfo,
      ns,
      "inputs",
      'path "secret/data/inputs/*" { capabilities = ["read"] }',
      tokenFile,
    );
    await bao.kvPut("secret", "inputs/coder", { "admin-email": "admin@platform.internal" });
    const vault = new KeyVaultAdmin(azure, (await azure.addVault("kv-inputs")).url);
    await vault.put("openai-api-key", "sk-input000000017");
    const env = await workloadIdentity(azure, kubeInfo, ns, "unit", files);
    azure.vault("kv-inputs").allow(env.AZURE_CLIENT_ID!, ["get"]);
    const auth = { kubernetes: { role: "inputs", tokenFile } };
    const u = (vaultKey: string, kvName: string) =>
      unit(
        "inputs",
        { kind: "generated-secret", with: { secret: { name: "x" }, keys: [{ name: "k" }] } },
        {
          inputs: {
            adminEmail: { vault: { address: baoInfo.address, path: "inputs/coder", key: vaultKey, auth } },
            openaiKey: { keyVault: { url: vault.url, name: kvName } },
          },
        },
      );
    const ok = await runDag(u("admin-email", "openai-api-key"), {
      ...(await asUnit(ns, u("admin-email", "openai-api-key"))),
      env: { ...authorityStepEnv(bundle), ...env },
    });
    expect(codes(ok)).toEqual([0, 0, 0, 0]);
    expect(ok[0]!.outputs.facts).toBe("{}");
    const missing = await runDag(u("admin-name", "anthropic-key"), {
      ...(await asUnit(ns, u("admin-name", "anthropic-key"))),
      env: { ...authorityStepEnv(bundle), ...env },
    });
    expect(codes(missing)).toEqual([ExitCode.missingInput]);
    expect(problemsOf(missing[0]!)).toContain("inputs/coder key admin-name is not in the secret");
    expect(problemsOf(missing[0]!)).toContain("secret anthropic-key does not exist");
  });
});
