import { describe, expect, it } from "vitest";
import { explicitPairs, planSync, prefixPairs } from "../../steps/kinds/secret-sync/plan.js";
import { loadUnit } from "../../steps/runtime/unit.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";

const registry = await loadKinds(kinds);

const kv = (url: string) => ({ keyVault: { url } });
const unit = (w: Record<string, unknown>) => ({
  apiVersion: "reseed.dev/v1alpha1",
  kind: "SeedingUnit",
  metadata: { name: "sync" },
  spec: { pattern: "reconciler", ensure: { kind: "secret-sync", with: w } },
});
const problems = (w: Record<string, unknown>) => {
  try {
    loadUnit(unit(w), registry);
    return [];
  } catch (err) {
    return (err as { problems: { subject: string; message: string }[] }).problems.map(
      (p) => `${p.subject}: ${p.message}`,
    );
  }
};

describe("secret-sync key mapping", () => {
  it("maps a curated list, renaming where asked", () => {
    expect(explicitPairs(["a", { from: "b", to: "c" }])).toEqual([
      { from: "a", to: "a" },
      { from: "b", to: "c" },
    ]);
  });

  it("maps a prefix by swapping it, and only keys under it", () => {
    expect(prefixPairs({ from: "coder-", to: "" }, ["coder-db", "other", "coder-api"])).toEqual([
      { from: "coder-api", to: "api" },
      { from: "coder-db", to: "db" },
    ]);
    expect(prefixPairs({ from: "x-" }, ["x-1"])).toEqual([{ from: "x-1", to: "x-1" }]);
  });
});

describe("secret-sync plan", () => {
  const pairs = [
    { from: "a", to: "a" },
    { from: "b", to: "b2" },
  ];
  const source = { a: "value-a", b: "value-b" };

  it("writes missing keys and nothing that is equal", () => {
    const p = planSync({ pairs, source, destination: { a: "value-a" }, drift: "correct", prunable: [] });
    expect(p).toEqual({ write: { b2: "value-b" }, drifted: [], remove: [], changes: ["added b2 (from b)"] });
    expect(
      planSync({ pairs, source, destination: { a: "value-a", b2: "value-b" }, drift: "correct", prunable: [] }).changes,
    ).toEqual([]);
  });

  it("corrects drift when told to, and only reports it otherwise", () => {
    const destination = { a: "hand-edited", b2: "value-b" };
    expect(planSync({ pairs, source, destination, drift: "correct", prunable: [] })).toMatchObject({
      write: { a: "value-a" },
      changes: ["corrected drift in a"],
    });
    expect(planSync({ pairs, source, destination, drift: "report", prunable: [] })).toMatchObject({
      write: {},
      drifted: ["a"],
      changes: [],
    });
  });

  it("writes a recovered key only if it differs from the source, whatever drift says", () => {
    const destination = { a: "value-a", b2: "old-value" };
    expect(planSync({ pairs, source, destination, recovered: ["a", "b2"], drift: "report", prunable: [] })).toEqual({
      write: { b2: "value-b" },
      drifted: [],
      remove: [],
      changes: [
        "recovered soft-deleted a (equal to the source)",
        "recovered soft-deleted b2 and wrote the source's value",
      ],
    });
  });

  it("removes only prunable keys the source no longer has", () => {
    const p = planSync({
      pairs,
      source,
      destination: { a: "value-a", b2: "value-b" },
      drift: "correct",
      prunable: ["a", "b2", "gone"],
    });
    expect(p.remove).toEqual(["gone"]);
  });
});

describe("secret-sync settings", () => {
  it("needs exactly one of keys or prefix, an explicit drift policy, and prune only with a prefix", () => {
    expect(
      problems({ from: kv("https://a.vault.azure.net"), to: kv("https://b.vault.azure.net"), drift: "correct" }),
    ).toEqual(["spec.ensure.with: give exactly one of keys (a curated list) or prefix"]);
    expect(
      problems({ from: kv("https://a.vault.azure.net"), to: kv("https://b.vault.azure.net"), keys: ["x"] }).join(),
    ).toContain("spec.ensure.with.drift");
    expect(
      problems({
        from: kv("https://a.vault.azure.net"),
        to: kv("https://b.vault.azure.net"),
        keys: ["x"],
        drift: "report",
        prune: true,
      }),
    ).toEqual([
      "spec.ensure.with.prune: prune needs a prefix or a namespaceSelector: only keys under the destination prefix, or Secrets the fan-out labelled, can be known to be the unit's",
    ]);
  });

  it("refuses destination names the destination cannot hold, and two keys written to one name", () => {
    const p = problems({
      from: { kubernetesSecret: { name: "src" } },
      to: kv("https://b.vault.azure.net"),
      keys: ["db.password", { from: "a", to: "x" }, { from: "b", to: "x" }],
      drift: "correct",
    });
    expect(p).toEqual([
      'spec.ensure.with.keys.0: "db.password" is not a Key Vault secret name (1–127 letters, digits and dashes)',
      "spec.ensure.with.keys.2: two keys are written to x",
    ]);
  });
});
