// azure-federated-credential against a FAKE Azure Resource Manager and a FAKE Entra token
// endpoint (test/harness/fake-arm.ts, test/harness/fake-entra.ts): no emulator of either exists. The fake follows
// the documented API and counts the writes it receives.
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ExitCode } from "../../steps/core/errors.js";
import { unitPermissions } from "../../steps/runtime/permissions.js";
import { loadUnit } from "../../steps/runtime/unit.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";
import { connectKube } from "../harness/kube.js";
import { Admin } from "../harness/kube-admin.js";
import { startFakeArm, type FakeArmSetup } from "../harness/fake-arm.js";
import { allText, runDag } from "../harness/steps.js";

const registry = await loadKinds(kinds);

const kube = connectKube(inject("kube"));
const admin = new Admin(kube.adminKubeconfig);
const ns = "kind-azure-fic";
const issuer = "https://oidc.prod-eu-1.platform.internal/cluster";
let azure: FakeArmSetup;
let opts: { kubeconfig: string; namespace: string; env: Record<string, string> };

function unit(overrides: Record<string, unknown> = {}) {
  return {
    apiVersion: "reseed.dev/v1alpha1",
    kind: "SeedingUnit",
    metadata: { name: "coder-ws-fic" },
    spec: {
      pattern: "reconciler",
      inputs: {
        issuer: { configMapKeyRef: { name: "cluster-facts", key: "oidcIssuer" } },
        resourceGroup: { configMapKeyRef: { name: "cluster-facts", key: "resourceGroup" } },
      },
      ensure: {
        kind: "azure-federated-credential",
        with: {
          subscriptionId: azure.subscriptionId,
          resourceGroup: { input: "resourceGroup" },
          identityName: "coder-workspaces",
          name: "coder-workspaces-prod",
          issuer: { input: "issuer" },
          serviceAccount: { name: "coder-workspace", namespace: "coder-ws" },
          armEndpoint: azure.fake.url,
          ...overrides,
        },
      },
    },
  };
}

const fics = () => azure.fake.credentials(azure.subscriptionId, "platform", "coder-workspaces")!;

async function counted(u: ReturnType<typeof unit>, env = opts.env) {
  const mark = azure.fake.writes.length;
  const runs = await runDag(u, { ...opts, env });
  return { runs, writes: azure.fake.writes.slice(mark), text: allText(runs) };
}

beforeAll(async () => {
  azure = await startFakeArm();
  azure.fake.addIdentity(azure.subscriptionId, "platform", "coder-workspaces");
  await admin.namespace(ns);
  await admin.putConfigMap(ns, "cluster-facts", { oidcIssuer: issuer, resourceGroup: "platform" });
  opts = { kubeconfig: await kube.kubeconfigFor(ns, "unit"), namespace: ns, env: azure.env() };
  await admin.grant(ns, "unit", unitPermissions(loadUnit(unit(), registry), ns));
});
afterAll(() => azure?.stop());

describe("azure-federated-credential (fake ARM)", () => {
  it("creates the credential with a 201 PUT, then reruns with zero writes at the fake", async () => {
    const first = await counted(unit());
    expect(first.runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(first.runs[2]!.outputs.action).toBe("created");
    expect(first.writes).toEqual(["arm PUT coder-workspaces/coder-workspaces-prod"]);
    expect(fics().get("coder-workspaces-prod")).toEqual({
      issuer,
      subject: "system:serviceaccount:coder-ws:coder-workspace",
      audiences: ["api://AzureADTokenExchange"],
    });

    const again = await counted(unit());
    expect(again.runs[2]!.outputs.action).toBe("unchanged");
    expect(again.writes).toEqual([]);
    for (const secret of [azure.assertion, ...azure.entra.issued()])
      expect(first.text + again.text).not.toContain(secret);
  });

  it("corrects subject and issuer drift with one upsert each", async () => {
    fics().set("coder-workspaces-prod", {
      issuer,
      subject: "system:serviceaccount:coder-ws:someone-else",
      audiences: ["api://AzureADTokenExchange"],
    });
    const subject = await counted(unit());
    expect(subject.runs[2]!.outputs.action).toBe("updated");
    expect(subject.runs[2]!.stdout).toContain(
      "subject system:serviceaccount:coder-ws:someone-else -> system:serviceaccount:coder-ws:coder-workspace",
    );
    expect(subject.writes).toHaveLength(1);

    await admin.putConfigMap(ns, "cluster-facts", {
      oidcIssuer: "https://oidc.prod-eu-1.platform.internal/cluster-2",
      resourceGroup: "platform",
    });
    try {
      const moved = await counted(unit());
      expect(moved.runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
      expect(moved.runs[2]!.stdout).toContain(
        "issuer https://oidc.prod-eu-1.platform.internal/cluster -> https://oidc.prod-eu-1.platform.internal/cluster-2",
      );
      expect(moved.writes).toHaveLength(1);
    } finally {
      await admin.putConfigMap(ns, "cluster-facts", { oidcIssuer: issuer, resourceGroup: "platform" });
    }
  });

  it("fails validate-inputs naming every missing workload identity variable with the unit's own missing input", async () => {
    await admin.putConfigMap(ns, "cluster-facts", { resourceGroup: "platform" });
    try {
      const { AZURE_CLIENT_ID: _c, AZURE_TENANT_ID: _t, AZURE_FEDERATED_TOKEN_FILE: _f, ...rest } = azure.env();
      const run = await counted(unit(), rest);
      expect(run.runs.map((r) => r.code)).toEqual([ExitCode.missingInput]);
      for (const name of ["env AZURE_CLIENT_ID", "env AZURE_TENANT_ID", "env AZURE_FEDERATED_TOKEN_FILE", "issuer"])
        expect(run.runs[0]!.stdout).toContain(`"subject":"${name}"`);
      expect(run.runs[0]!.stdout).toContain("4 required inputs missing");
      expect(run.writes).toEqual([]);
    } finally {
      await admin.putConfigMap(ns, "cluster-facts", { oidcIssuer: issuer, resourceGroup: "platform" });
    }
  });

  it("names ARM's refusals: issuer+subject used by another credential, a missing identity, the 20-credential limit", async () => {
    expect((await counted(unit())).runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    const clash = await counted(unit({ name: "second-credential" }));
    expect(clash.runs[2]!.code).toBe(ExitCode.ensureFailed);
    expect(clash.runs[2]!.stdout).toContain("already has this issuer and subject");

    const missing = await counted(unit({ identityName: "no-such-identity" }));
    expect(missing.runs[2]!.code).toBe(ExitCode.ensureFailed);
    expect(missing.runs[2]!.stdout).toContain(
      "userAssignedIdentities/no-such-identity' under resource group 'platform' was not found",
    );

    for (let i = fics().size; i < 20; i++)
      fics().set(`filler-${i}`, {
        issuer,
        subject: `system:serviceaccount:x:sa-${i}`,
        audiences: ["api://AzureADTokenExchange"],
      });
    const full = await counted(
      unit({ name: "twenty-first", serviceAccount: { name: "another", namespace: "coder-ws" } }),
    );
    expect(full.runs[2]!.code).toBe(ExitCode.ensureFailed);
    expect(full.runs[2]!.stdout).toContain("at most 20 federated identity credentials");
  });

  it("rejects a credential name Azure would refuse, at lint time", () => {
    expect(() => loadUnit(unit({ name: "-bad" }), registry)).toThrow(/Azure's rule/);
  });

  it("fails validate-inputs by name when the token file is gone, without reaching ARM", async () => {
    const run = await counted(unit(), { ...opts.env, AZURE_FEDERATED_TOKEN_FILE: "/nonexistent/token" });
    expect(run.runs.map((r) => r.code)).toEqual([ExitCode.missingInput]);
    expect(run.runs[0]!.stdout).toContain(
      "environment variable AZURE_FEDERATED_TOKEN_FILE names /nonexistent/token, which does not exist",
    );
    expect(run.writes).toEqual([]);
  });
});
