import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { ExitCode } from "../../steps/core/errors.js";
import { unitPermissions } from "../../steps/runtime/permissions.js";
import { loadUnit } from "../../steps/runtime/unit.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";
import { connectKube } from "../harness/kube.js";
import { Admin } from "../harness/kube-admin.js";
import { lastLine, runDag, runStepProcess } from "../harness/steps.js";

const registry = await loadKinds(kinds);

const kube = connectKube(inject("kube"));
const admin = new Admin(kube.adminKubeconfig);

function unit(name: string, spec: Record<string, unknown>) {
  return {
    apiVersion: "reseed.dev/v1alpha1",
    kind: "SeedingUnit",
    metadata: { name },
    spec: { pattern: "reconciler", ...spec },
  };
}

async function asUnit(ns: string, u: ReturnType<typeof unit>, grant = true) {
  await admin.namespace(ns);
  const kubeconfig = await kube.kubeconfigFor(ns, "unit");
  if (grant) await admin.grant(ns, "unit", unitPermissions(loadUnit(u, registry), ns));
  return { kubeconfig, namespace: ns };
}

describe("generated-secret", () => {
  const ns = "kind-generated-secret";
  const spec = (rotationId?: string) =>
    unit("db-password", {
      ensure: {
        kind: "generated-secret",
        with: {
          secret: { name: "db" },
          keys: [{ name: "password" }, { name: "replication", length: 16, charset: "hex" }],
          ...(rotationId ? { rotationId } : {}),
        },
      },
    });
  let opts: { kubeconfig: string; namespace: string };
  beforeAll(async () => {
    opts = await asUnit(ns, spec("r1"));
  });

  it("adopts an existing Secret: keeps its values and foreign metadata, adds only missing keys", async () => {
    await admin.putSecret(ns, "db", { password: "set-by-a-human-1" });
    const runs = await runDag(spec(), opts);
    expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(runs[2]!.outputs.action).toBe("updated");
    expect(runs[2]!.stdout).toContain("added missing key replication");
    const data = await admin.readSecret(ns, "db");
    expect(data?.password).toBe("set-by-a-human-1");
    expect(data?.replication).toMatch(/^[0-9a-f]{16}$/);
  });

  it("regenerates every key exactly once when rotationId changes in Git", async () => {
    await admin.putSecret(ns, "db", { password: "set-by-a-human-2", replication: "0123456789abcdef" });
    const before = await admin.readSecret(ns, "db");
    const adopted = await runDag(spec("r1"), opts);
    expect(adopted[2]!.stdout).toContain("adopted existing values under rotationId r1");
    expect(await admin.readSecret(ns, "db")).toEqual(before);
    const rotated = await runDag(spec("r2"), opts);
    expect(rotated[2]!.outputs.action).toBe("updated");
    const after = await admin.readSecret(ns, "db");
    expect(after?.password).not.toBe(before?.password);
    expect(after?.replication).not.toBe(before?.replication);
    const again = await runDag(spec("r2"), opts);
    expect(again[2]!.outputs.action).toBe("unchanged");
    expect(await admin.readSecret(ns, "db")).toEqual(after);
  });

  it("fails ensure with the API server's reason, not a stack trace, when RBAC forbids the write", async () => {
    const u = unit("no-write", {
      ensure: { kind: "generated-secret", with: { secret: { name: "forbidden" }, keys: [{ name: "k" }] } },
    });
    const o = await asUnit("kind-forbidden", u, false);
    await admin.grant("kind-forbidden", "unit", [
      {
        namespace: "kind-forbidden",
        apiGroups: [""],
        resources: ["secrets"],
        verbs: ["get"],
        resourceNames: ["forbidden"],
      },
    ]);
    const runs = await runDag(u, o);
    expect(runs.map((r) => r.code)).toEqual([0, 0, ExitCode.ensureFailed]);
    const summary = lastLine(runs[2]!);
    expect(summary).toMatchObject({ result: "failed", exitCode: 13 });
    expect(JSON.stringify(summary.problems)).toMatch(/HTTP 403: secrets is forbidden/);
    expect(runs[2]!.stdout).not.toMatch(/\n\s+at /);
  });
});

describe("runtime-facts", () => {
  const ns = "kind-runtime-facts";
  const u = unit("facts", {
    inputs: { region: { configMapKeyRef: { name: "infra", key: "region" } } },
    ensure: {
      kind: "runtime-facts",
      with: { configMap: { name: "cluster-facts" }, facts: { region: { input: "region" }, env: "prod" } },
    },
  });
  let opts: { kubeconfig: string; namespace: string };
  beforeAll(async () => {
    opts = await asUnit(ns, u);
    await admin.putConfigMap(ns, "infra", { region: "westeurope" });
  });

  it("corrects drift in the facts it owns and leaves other keys alone", async () => {
    await admin.putConfigMap(ns, "infra", { region: "westeurope" });
    await admin.deleteConfigMap(ns, "cluster-facts");
    expect((await runDag(u, opts))[2]!.outputs.action).toBe("created");
    await admin.putConfigMap(ns, "cluster-facts", { region: "hand-edited", notes: "kept" });
    const runs = await runDag(u, opts);
    expect(runs[2]!.outputs.action).toBe("updated");
    // The change names the keys it corrected, never their values (facts are not secret, but no change carries a value).
    expect(lastLine(runs[2]!).changes).toEqual([`updated keys env, region in ConfigMap ${ns}/cluster-facts`]);
    expect(runs[2]!.stdout).not.toContain("hand-edited");
    expect(await admin.readConfigMap(ns, "cluster-facts")).toEqual({
      region: "westeurope",
      env: "prod",
      notes: "kept",
    });
  });

  it("follows the authority when the infra fact changes", async () => {
    await admin.putConfigMap(ns, "infra", { region: "westeurope" });
    expect((await runDag(u, opts)).map((r) => r.code)).toEqual([0, 0, 0, 0]);
    await admin.putConfigMap(ns, "infra", { region: "northeurope" });
    expect((await runDag(u, opts))[2]!.outputs.action).toBe("updated");
    expect((await admin.readConfigMap(ns, "cluster-facts"))?.region).toBe("northeurope");
  });
});

describe("wait-deps and operator-ready against real objects", () => {
  const ns = "kind-operator";

  it("times out naming the dependency and its last error, and never reaches ensure", async () => {
    const u = unit("waits", {
      waitTimeoutSeconds: 2,
      dependencies: [{ kubernetes: { apiVersion: "v1", kind: "ConfigMap", name: "never-there" } }],
      ensure: { kind: "generated-secret", with: { secret: { name: "x" }, keys: [{ name: "k" }] } },
    });
    const runs = await runDag(u, await asUnit(ns, u));
    expect(runs.map((r) => r.code)).toEqual([0, ExitCode.dependencyTimeout]);
    expect(JSON.stringify(lastLine(runs[1]!).problems)).toContain("kubernetes ConfigMap kind-operator/never-there");
    expect(JSON.stringify(lastLine(runs[1]!).problems)).toContain("does not exist");
  });

  it("reports a resource whose condition is not True, with the operator's reason", async () => {
    const u = unit("cm-ready", {
      pattern: "operator",
      ensure: {
        kind: "operator-ready",
        with: { resources: [{ apiVersion: "v1", kind: "ConfigMap", name: "no-conditions" }] },
      },
    });
    const opts = await asUnit(ns, u);
    await admin.putConfigMap(ns, "no-conditions", {});
    const runs = await runDag(u, opts);
    expect(runs.map((r) => [r.phase, r.code])).toEqual([
      ["validate-inputs", 0],
      ["wait-deps", 0],
      ["verify", ExitCode.verifyFailed],
    ]);
    expect(JSON.stringify(lastLine(runs[2]!).problems)).toContain("has no Ready condition yet");
  });
});

describe("step programs", () => {
  it("exit 10 on an invalid unit, naming the field", async () => {
    const r = await runStepProcess(
      "validate-inputs",
      { apiVersion: "reseed.dev/v1alpha1", kind: "SeedingUnit", metadata: { name: "Bad_Name" }, spec: {} },
      {
        kubeconfig: kube.adminKubeconfig,
        namespace: "default",
      },
    );
    expect(r.code).toBe(ExitCode.invalidSpec);
    expect(r.outputs.result).toBe("failed");
    expect(JSON.stringify(lastLine(r).problems)).toContain("metadata.name");
  });

  it("refuse to run a unit other than the one validate-inputs fingerprinted", async () => {
    const u = unit("fp", {
      ensure: { kind: "generated-secret", with: { secret: { name: "fp" }, keys: [{ name: "k" }] } },
    });
    const r = await runStepProcess("ensure-state", u, {
      kubeconfig: kube.adminKubeconfig,
      namespace: "default",
      fingerprint: "0000000000000000",
    });
    expect(r.code).toBe(ExitCode.invalidSpec);
    expect(r.stdout).toContain("RESEED_FINGERPRINT");
  });

  // runMode containerSet: the later steps read validate-inputs' fingerprint from the pod's /tmp.
  it("in one pod, read the fingerprint validate-inputs wrote and refuse a unit that differs, or a missing file", async () => {
    const u = unit("fp-file", {
      ensure: { kind: "generated-secret", with: { secret: { name: "fp-file" }, keys: [{ name: "k" }] } },
    });
    const opts = { kubeconfig: kube.adminKubeconfig, namespace: "default" };
    const validated = await runStepProcess("validate-inputs", u, opts);
    expect(validated.code).toBe(ExitCode.ok);
    expect(validated.outputs["exit-code"]).toBe("0");
    const dir = await mkdtemp(path.join(tmpdir(), "reseed-fp-"));
    const file = path.join(dir, "fingerprint");
    try {
      await writeFile(file, validated.outputs.fingerprint!);
      const same = await runStepProcess("wait-deps", u, { ...opts, env: { RESEED_FINGERPRINT_FILE: file } });
      expect(same.code, same.stdout).toBe(ExitCode.ok);

      const changed = unit("fp-file", {
        ensure: { kind: "generated-secret", with: { secret: { name: "fp-file" }, keys: [{ name: "other" }] } },
      });
      const differs = await runStepProcess("wait-deps", changed, { ...opts, env: { RESEED_FINGERPRINT_FILE: file } });
      expect(differs.code).toBe(ExitCode.invalidSpec);
      expect(differs.outputs["exit-code"]).toBe(String(ExitCode.invalidSpec));
      expect(differs.stdout).toContain("RESEED_FINGERPRINT_FILE");

      const missing = path.join(dir, "absent");
      const none = await runStepProcess("wait-deps", u, { ...opts, env: { RESEED_FINGERPRINT_FILE: missing } });
      expect(none.code).toBe(ExitCode.invalidSpec);
      expect(none.stdout).toContain("validate-inputs did not write one");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("input problems in words an operator can act on", () => {
  const ns = "kind-input-words";
  const facts = (key: string) =>
    unit("facts", {
      inputs: { region: { configMapKeyRef: { name: "infra", key } } },
      ensure: { kind: "runtime-facts", with: { configMap: { name: "facts" }, facts: { region: { input: "region" } } } },
    });

  it("a missing key says so once and offers the close one: no repetition of the reference", async () => {
    const u = facts("regoin");
    const opts = await asUnit(ns, u);
    await admin.putConfigMap(ns, "infra", { region: "northeurope", zone: "1" });
    const run = await runStepProcess("validate-inputs", u, opts);
    expect(run.code).toBe(ExitCode.missingInput);
    expect(lastLine(run).problems).toEqual([
      { subject: "region", message: `ConfigMap ${ns}/infra key regoin is not in the ConfigMap; did you mean region?` },
    ]);
    expect(run.termination).toBe(
      `C1 failfast: a required input is missing: region: ConfigMap ${ns}/infra key regoin is not in the ConfigMap; did you mean region?`,
    );
  });

  it("a Role that forbids reading the input is its own problem: exit 11, reason 'permission denied', the hint names the Role", async () => {
    const u = facts("region");
    const denied = "kind-input-forbidden";
    const opts = await asUnit(denied, u, false); // no grant: the API server answers 403
    const run = await runStepProcess("validate-inputs", u, opts);
    expect(run.code).toBe(ExitCode.missingInput);
    const summary = lastLine(run);
    expect(summary.reason).toBe("1 required input could not be read: permission denied");
    expect(summary.hint).toMatch(
      /^the unit's Role \(reseed-<unit>, rendered by the chart from the unit's inputs\) must allow reading/,
    );
    expect(summary.problems).toEqual([
      {
        subject: "region",
        message: `ConfigMap ${denied}/infra key region cannot be read: the unit's service account may not get this ConfigMap`,
      },
    ]);
  });
});
