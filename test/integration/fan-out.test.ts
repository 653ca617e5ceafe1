// Fan-out against the real kube-apiserver: one secret-sync unit writing the same Secret into
// every namespace a selector matches, and one azure-federated-credential unit giving every
// matching ServiceAccount a credential on the FAKE Azure Resource Manager (no emulator exists;
// test/harness/fake-arm.ts follows the documented API), as targets come and go
// (3 -> 5 -> 2), with every write counted at the server: the API server's audit log, the
// fake's own record of the PUTs and DELETEs it received.
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ExitCode } from "../../steps/core/errors.js";
import { unitPermissions } from "../../steps/runtime/permissions.js";
import { loadUnit } from "../../steps/runtime/unit.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";
import { connectKube } from "../harness/kube.js";
import { Admin } from "../harness/kube-admin.js";
import { startFakeArm, type FakeArmSetup } from "../harness/fake-arm.js";
import { allText, codes, lastLine, runDag } from "../harness/steps.js";

const registry = await loadKinds(kinds);

const kube = connectKube(inject("kube"));
const admin = new Admin(kube.adminKubeconfig);

const label = (ns: string, labels: Record<string, string | null>) => admin.labelNamespace(ns, labels);

describe("secret-sync to a namespaceSelector", () => {
  const home = "fan-sync-home";
  const user = `system:serviceaccount:${home}:unit`;
  const selectorLabel = "fan-out.test.reseed.dev/pull";
  const token = `ghp_${randomBytes(16).toString("hex")}`;
  const ws = (i: number) => `fan-sync-ws-${i}`;
  const unit = (prune = false) => ({
    apiVersion: "reseed.dev/v1alpha1",
    kind: "SeedingUnit",
    metadata: { name: "ghcr-pull-fan-out" },
    spec: {
      pattern: "reconciler",
      ensure: {
        kind: "secret-sync",
        with: {
          from: { kubernetesSecret: { name: "ghcr-token" } },
          to: {
            kubernetesSecret: { name: "ghcr-pull", namespaceSelector: { matchLabels: { [selectorLabel]: "yes" } } },
          },
          keys: ["token"],
          drift: "correct",
          prune,
        },
      },
    },
  });
  let kubeconfig: string;

  /** Runs the DAG as the unit's own ServiceAccount, granted exactly what the unit declares, and counts its writes at the API server. */
  async function run(u = unit()) {
    await admin.grant(home, "unit", unitPermissions(loadUnit(u, registry), home));
    const mark = await kube.auditMark();
    const runs = await runDag(u, {
      kubeconfig,
      namespace: home,
      workflow: { name: "ghcr-pull-fan-out-wf", cronWorkflow: "ghcr-pull-fan-out" },
    });
    const writes = (await kube.writesSince(mark, { user }))
      .filter((w) => w.resource !== "events")
      .map((w) => `${w.verb} ${w.resource} ${w.namespace}/${w.name}`);
    return { runs, writes: writes.sort(), ensure: runs.find((r) => r.phase === "ensure-state") };
  }

  beforeAll(async () => {
    await admin.namespace(home);
    await admin.putSecret(home, "ghcr-token", { token });
    kubeconfig = await kube.kubeconfigFor(home, "unit");
    for (const i of [1, 2, 3]) await label(ws(i), { [selectorLabel]: "yes" });
    await label("fan-sync-other", { [selectorLabel]: "no" });
  });

  it("declares a ClusterRole limited to the one Secret name, plus create and the namespace list", () => {
    const rules = unitPermissions(loadUnit(unit(true), registry), home).filter((r) => r.namespace === "*");
    expect(rules).toEqual([
      { namespace: "*", apiGroups: [""], resources: ["namespaces"], verbs: ["list"] },
      {
        namespace: "*",
        apiGroups: [""],
        resources: ["secrets"],
        verbs: ["delete", "list", "update"],
        resourceNames: ["ghcr-pull"],
      },
      { namespace: "*", apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
    ]);
  });

  it("3 matching namespaces: three creates, then a rerun with zero writes", async () => {
    const first = await run();
    expect(codes(first.runs)).toEqual([0, 0, 0, 0]);
    expect(first.writes).toEqual([1, 2, 3].map((i) => `create secrets ${ws(i)}/ghcr-pull`));
    expect(first.ensure!.outputs.action).toBe("created");
    expect(lastLine(first.ensure!).targets).toEqual(
      [1, 2, 3].map((i) => ({ target: `Secret ${ws(i)}/ghcr-pull`, action: "created" })),
    );
    expect(lastLine(first.ensure!).counts).toEqual({ targets: 3, created: 3, updated: 0, unchanged: 0 });
    for (const i of [1, 2, 3]) expect(await admin.readSecret(ws(i), "ghcr-pull")).toEqual({ token });
    expect(await admin.readSecret("fan-sync-other", "ghcr-pull")).toBeUndefined();

    const again = await run();
    expect(codes(again.runs)).toEqual([0, 0, 0, 0]);
    expect(again.writes).toEqual([]);
    expect(again.ensure!.outputs.action).toBe("unchanged");
    expect(lastLine(again.ensure!).counts).toEqual({ targets: 3, created: 0, updated: 0, unchanged: 3 });
    expect(allText([...first.runs, ...again.runs])).not.toContain(token);
  });

  it("5 matching: the two namespaces labelled since the last run get it, and nothing else is written (C3)", async () => {
    for (const i of [4, 5]) await label(ws(i), { [selectorLabel]: "yes" });
    const r = await run();
    expect(codes(r.runs)).toEqual([0, 0, 0, 0]);
    expect(r.writes).toEqual([4, 5].map((i) => `create secrets ${ws(i)}/ghcr-pull`));
    // The action follows the change record (docs/evidence.md): a Secret came into being.
    expect(r.ensure!.outputs.action).toBe("created");
    expect(lastLine(r.ensure!).counts).toEqual({ targets: 5, created: 2, updated: 0, unchanged: 3 });
  });

  it("corrects drift in one namespace with one update", async () => {
    await admin.core.replaceNamespacedSecret({
      name: "ghcr-pull",
      namespace: ws(2),
      body: {
        ...(await admin.core.readNamespacedSecret({ name: "ghcr-pull", namespace: ws(2) })),
        data: { token: Buffer.from("tampered-value-000000").toString("base64") },
      },
    });
    const r = await run();
    expect(r.writes).toEqual([`update secrets ${ws(2)}/ghcr-pull`]);
    expect(await admin.readSecret(ws(2), "ghcr-pull")).toEqual({ token });
  });

  it("2 matching: without prune the three that left keep their Secret and nothing is written; with prune exactly those three are deleted", async () => {
    for (const i of [1, 2, 3]) await label(ws(i), { [selectorLabel]: null });
    const kept = await run();
    expect(codes(kept.runs)).toEqual([0, 0, 0, 0]);
    expect(kept.writes).toEqual([]);
    expect(lastLine(kept.ensure!).counts).toEqual({ targets: 5, created: 0, updated: 0, unchanged: 2, kept: 3 });
    for (const i of [1, 2, 3]) expect(await admin.readSecret(ws(i), "ghcr-pull")).toEqual({ token });

    // A Secret of that name in a non-matching namespace that reseed did not write is never pruned.
    await admin.putSecret("fan-sync-other", "ghcr-pull", { token: "not-reseeds-own-value" });
    const pruned = await run(unit(true));
    expect(codes(pruned.runs)).toEqual([0, 0, 0, 0]);
    expect(pruned.writes).toEqual([1, 2, 3].map((i) => `delete secrets ${ws(i)}/ghcr-pull`));
    expect(lastLine(pruned.ensure!).counts).toEqual({ targets: 5, created: 0, updated: 0, unchanged: 2, pruned: 3 });
    for (const i of [1, 2, 3]) expect(await admin.readSecret(ws(i), "ghcr-pull")).toBeUndefined();
    expect(await admin.readSecret("fan-sync-other", "ghcr-pull")).toEqual({ token: "not-reseeds-own-value" });

    const again = await run(unit(true));
    expect(again.writes).toEqual([]);
  });

  it("a missing source key fails before any namespace is written, though a new one matches (C1)", async () => {
    await label(ws(6), { [selectorLabel]: "yes" });
    await admin.putSecret(home, "ghcr-token", { other: "x".repeat(20) });
    try {
      const r = await run();
      expect(codes(r.runs)).toEqual([0, 0, ExitCode.missingInput]);
      expect(JSON.stringify(lastLine(r.ensure!).problems)).toContain('"subject":"token"');
      expect(r.writes).toEqual([]);
    } finally {
      await admin.putSecret(home, "ghcr-token", { token });
    }
    const healed = await run();
    expect(healed.writes).toEqual([`create secrets ${ws(6)}/ghcr-pull`]);
  });

  it("never overwrites a Secret of that name it did not write: the others are written, the run fails naming it", async () => {
    await label(ws(7), { [selectorLabel]: "yes" });
    await label(ws(8), { [selectorLabel]: "yes" });
    await admin.putSecret(ws(7), "ghcr-pull", { token: "a-workspace-owners-own" });
    const r = await run();
    expect(codes(r.runs)).toEqual([0, 0, ExitCode.ensureFailed]);
    expect(r.writes).toEqual([`create secrets ${ws(8)}/ghcr-pull`]);
    expect(JSON.stringify(lastLine(r.ensure!).problems)).toContain(`Secret ${ws(7)}/ghcr-pull`);
    expect(await admin.readSecret(ws(7), "ghcr-pull")).toEqual({ token: "a-workspace-owners-own" });
    await admin.deleteSecret(ws(7), "ghcr-pull");
    expect((await run()).writes).toEqual([`create secrets ${ws(7)}/ghcr-pull`]);
  });

  it("the Event carries the counts, not the list of targets", async () => {
    const notes = (await admin.events.listNamespacedEvent({ namespace: home })).items
      .filter((e) => e.action === "ensure-state" && e.reason === "StateUnchanged")
      .map((e) => e.note ?? "");
    expect(notes.length).toBeGreaterThan(0);
    expect(notes.at(-1)).toContain('"counts":{"targets":');
    expect(notes.at(-1)).not.toContain('"targets":[');
  });
});

describe("azure-federated-credential for a ServiceAccount selector (fake ARM)", () => {
  const home = "fan-fic-home";
  const user = `system:serviceaccount:${home}:unit`;
  const issuer = "https://oidc.fan-out.platform.internal/cluster";
  const wsLabel = "fan-out.test.reseed.dev/workspace";
  const ws = (i: number) => `fan-fic-ws-${i}`;
  let azure: FakeArmSetup;
  let kubeconfig: string;
  const unit = (more: Record<string, unknown> = {}) => ({
    apiVersion: "reseed.dev/v1alpha1",
    kind: "SeedingUnit",
    metadata: { name: "coder-ws-fic-fan-out" },
    spec: {
      pattern: "reconciler",
      inputs: { issuer: { configMapKeyRef: { name: "cluster-facts", key: "oidcIssuer" } } },
      ensure: {
        kind: "azure-federated-credential",
        with: {
          subscriptionId: azure.subscriptionId,
          resourceGroup: "platform",
          identityNames: ["coder-ws-a"],
          namePrefix: "reseed-ws-",
          issuer: { input: "issuer" },
          serviceAccounts: {
            namespaceSelector: { matchLabels: { [wsLabel]: "yes" } },
            selector: { matchLabels: { "app.kubernetes.io/name": "coder-workspace" } },
          },
          armEndpoint: azure.fake.url,
          ...more,
        },
      },
    },
  });
  const fics = (identity: string) => azure.fake.credentials(azure.subscriptionId, "platform", identity)!;

  /** A workspace namespace with its ServiceAccount, and a second one the selector must not match. */
  async function workspace(i: number): Promise<void> {
    await label(ws(i), { [wsLabel]: "yes" });
    for (const [name, labels] of [
      ["workspace", { "app.kubernetes.io/name": "coder-workspace" }],
      ["default-builder", {}],
    ] as const) {
      try {
        await admin.core.createNamespacedServiceAccount({ namespace: ws(i), body: { metadata: { name, labels } } });
      } catch (err) {
        if ((err as { code?: number }).code !== 409) throw err;
      }
    }
  }

  /** Runs the DAG as the unit's ServiceAccount, counting writes at the fake ARM and at the API server. */
  async function run(u = unit()) {
    await admin.grant(home, "unit", unitPermissions(loadUnit(u, registry), home));
    const kubeMark = await kube.auditMark();
    const armMark = azure.fake.writes.length;
    const runs = await runDag(u, { kubeconfig, namespace: home, env: azure.env() });
    const kubeWrites = (await kube.writesSince(kubeMark, { user })).filter((w) => w.resource !== "events");
    return {
      runs,
      arm: azure.fake.writes.slice(armMark).sort(),
      kubeWrites,
      ensure: runs.find((r) => r.phase === "ensure-state"),
      text: allText(runs),
    };
  }

  beforeAll(async () => {
    azure = await startFakeArm();
    for (const id of ["coder-ws-a", "coder-ws-b", "coder-ws-c"])
      azure.fake.addIdentity(azure.subscriptionId, "platform", id);
    await admin.namespace(home);
    await admin.putConfigMap(home, "cluster-facts", { oidcIssuer: issuer });
    kubeconfig = await kube.kubeconfigFor(home, "unit");
    for (const i of [1, 2, 3]) await workspace(i);
  });
  afterAll(() => azure?.fake.stop());

  it("declares only cluster-wide lists of namespaces and ServiceAccounts in Kubernetes", () => {
    expect(unitPermissions(loadUnit(unit(), registry), home).filter((r) => r.namespace === "*")).toEqual([
      { namespace: "*", apiGroups: [""], resources: ["namespaces"], verbs: ["list"] },
      { namespace: "*", apiGroups: [""], resources: ["serviceaccounts"], verbs: ["list"] },
    ]);
  });

  it("3 matching ServiceAccounts: three credentials created, then a rerun with zero writes", async () => {
    const first = await run();
    expect(codes(first.runs)).toEqual([0, 0, 0, 0]);
    expect(first.arm).toEqual([1, 2, 3].map((i) => `arm PUT coder-ws-a/reseed-ws-${ws(i)}_workspace`));
    expect(first.kubeWrites).toEqual([]);
    expect(first.ensure!.outputs.action).toBe("created");
    expect(lastLine(first.ensure!).counts).toEqual({ targets: 3, created: 3, updated: 0, unchanged: 0 });
    expect(fics("coder-ws-a").get(`reseed-ws-${ws(2)}_workspace`)).toEqual({
      issuer,
      subject: `system:serviceaccount:${ws(2)}:workspace`,
      audiences: ["api://AzureADTokenExchange"],
    });

    const again = await run();
    expect(codes(again.runs)).toEqual([0, 0, 0, 0]);
    expect(again.arm).toEqual([]);
    expect(lastLine(again.ensure!).counts).toEqual({ targets: 3, created: 0, updated: 0, unchanged: 3 });
    for (const secret of [azure.assertion, ...azure.entra.issued()])
      expect(first.text + again.text).not.toContain(secret);
  });

  it("5 matching: the two new ServiceAccounts get theirs, nothing else is written", async () => {
    for (const i of [4, 5]) await workspace(i);
    const r = await run();
    expect(codes(r.runs)).toEqual([0, 0, 0, 0]);
    expect(r.arm).toEqual([4, 5].map((i) => `arm PUT coder-ws-a/reseed-ws-${ws(i)}_workspace`));
    expect(lastLine(r.ensure!).counts).toEqual({ targets: 5, created: 2, updated: 0, unchanged: 3 });
  });

  it("2 matching: without prune nothing is written; with prune exactly the three stale ones are deleted, and never one without the prefix", async () => {
    for (const i of [1, 2, 3]) await label(ws(i), { [wsLabel]: null });
    fics("coder-ws-a").set("hand-made", {
      issuer,
      subject: "system:serviceaccount:other:sa",
      audiences: ["api://AzureADTokenExchange"],
    });
    const kept = await run();
    expect(codes(kept.runs)).toEqual([0, 0, 0, 0]);
    expect(kept.arm).toEqual([]);
    expect(lastLine(kept.ensure!).counts).toEqual({ targets: 5, created: 0, updated: 0, unchanged: 2, kept: 3 });

    const pruned = await run(unit({ prune: true }));
    expect(codes(pruned.runs)).toEqual([0, 0, 0, 0]);
    expect(pruned.arm).toEqual([1, 2, 3].map((i) => `arm DELETE coder-ws-a/reseed-ws-${ws(i)}_workspace`));
    expect([...fics("coder-ws-a").keys()].sort()).toEqual([
      "hand-made",
      `reseed-ws-${ws(4)}_workspace`,
      `reseed-ws-${ws(5)}_workspace`,
    ]);
    expect((await run(unit({ prune: true }))).arm).toEqual([]);
  });

  it("more matches than the identities can hold fails naming the count and the limit, before any write (C1)", async () => {
    // coder-ws-b has room for one, coder-ws-c for two: with the two in place on coder-ws-a
    // (18 others fill it), 2 + 1 + 2 = 5 fit and 6 do not.
    for (let i = 0; i < 17; i++)
      fics("coder-ws-a").set(`other-a-${i}`, {
        issuer,
        subject: `system:serviceaccount:x:a-${i}`,
        audiences: ["api://AzureADTokenExchange"],
      });
    for (let i = 0; i < 19; i++)
      fics("coder-ws-b").set(`other-b-${i}`, {
        issuer,
        subject: `system:serviceaccount:x:b-${i}`,
        audiences: ["api://AzureADTokenExchange"],
      });
    for (let i = 0; i < 18; i++)
      fics("coder-ws-c").set(`other-c-${i}`, {
        issuer,
        subject: `system:serviceaccount:x:c-${i}`,
        audiences: ["api://AzureADTokenExchange"],
      });
    for (const i of [6, 7, 8, 9]) await workspace(i);
    const three = unit({ identityNames: ["coder-ws-a", "coder-ws-b", "coder-ws-c"] });
    const full = await run(three);
    expect(codes(full.runs)).toEqual([0, 0, ExitCode.missingInput]);
    const problems = JSON.stringify(lastLine(full.ensure!).problems);
    expect(problems).toContain(
      "6 ServiceAccounts match, but identities coder-ws-a, coder-ws-b, coder-ws-c can hold only 5",
    );
    expect(problems).toContain("Azure allows 20 per identity");
    expect(full.arm).toEqual([]);

    await label(ws(9), { [wsLabel]: null });
    const fits = await run(three);
    expect(codes(fits.runs)).toEqual([0, 0, 0, 0]);
    expect(fits.arm).toEqual([
      `arm PUT coder-ws-b/reseed-ws-${ws(6)}_workspace`,
      `arm PUT coder-ws-c/reseed-ws-${ws(7)}_workspace`,
      `arm PUT coder-ws-c/reseed-ws-${ws(8)}_workspace`,
    ]);
    for (const id of ["coder-ws-a", "coder-ws-b", "coder-ws-c"]) expect(fics(id).size).toBe(20);
  });

  it("a missing issuer fails validate-inputs before any credential is written (C1)", async () => {
    await admin.putConfigMap(home, "cluster-facts", {});
    try {
      const r = await run();
      expect(codes(r.runs)).toEqual([ExitCode.missingInput]);
      expect(r.runs[0]!.stdout).toContain('"subject":"issuer"');
      expect(r.arm).toEqual([]);
    } finally {
      await admin.putConfigMap(home, "cluster-facts", { oidcIssuer: issuer });
    }
  });
});
