import { describe, expect, it } from "vitest";
import { closest, didYouMean, editDistance } from "../../steps/core/suggest.js";
import { missingInputs } from "../../steps/core/errors.js";
import { problemsOf } from "../harness/unit-problems.js";

describe("did you mean", () => {
  it("counts a transposition as one edit", () => {
    expect(editDistance("regoin", "region")).toBe(1);
    expect(editDistance("region", "region")).toBe(0);
    expect(editDistance("", "abc")).toBe(3);
  });

  it("offers the closest known name within two edits (one for short names), nothing when none is close", () => {
    expect(closest("regoin", ["zone", "region", "regions"])).toBe("region");
    expect(closest("pasword", ["password", "username"])).toBe("password");
    expect(closest("Region", ["region"])).toBe("region");
    expect(closest("zone", ["bone", "zones"])).toBe("bone");
    expect(closest("db", ["ab", "cd"])).toBe("ab");
    expect(closest("endpoint", ["region", "zone"])).toBeUndefined();
    expect(closest("key", ["key"])).toBeUndefined();
    expect(didYouMean("regoin", ["region"])).toBe("; did you mean region?");
    expect(didYouMean("regoin", [])).toBe("");
  });
});

describe("missingInputs", () => {
  const p = (subject: string) => ({ subject, message: "…" });
  it("a permission denied is its own reason, with the Role in the hint; mixed with missing inputs, both", () => {
    expect(missingInputs([p("a")]).reason).toBe("1 required input missing or unusable");
    expect(missingInputs([p("a")]).hint).toMatch(/^provide every input/);
    const denied = missingInputs([p("a"), p("b")], ["a", "b"]);
    expect(denied.code).toBe(11);
    expect(denied.reason).toBe("2 required inputs could not be read: permission denied");
    expect(denied.hint).toMatch(/^the unit's Role/);
    const mixed = missingInputs([p("a"), p("b")], ["a"]);
    expect(mixed.reason).toBe("2 required inputs missing or unusable (1 permission denied)");
    expect(mixed.hint).toMatch(/^the unit's Role .*; provide every input/);
  });
});

describe("a kind's reference to an undeclared input", () => {
  it("names the close declared one", () => {
    const unit = (ref: string) => ({
      apiVersion: "reseed.dev/v1alpha1",
      kind: "SeedingUnit",
      metadata: { name: "facts" },
      spec: {
        pattern: "reconciler",
        inputs: { region: { configMapKeyRef: { name: "infra", key: "region" } } },
        ensure: { kind: "runtime-facts", with: { configMap: { name: "f" }, facts: { region: { input: ref } } } },
      },
    });
    expect(problemsOf(unit("regoin"))).toEqual([
      `spec.ensure.with: refers to input "regoin", which the unit's inputs do not declare; did you mean region?`,
    ]);
    expect(problemsOf(unit("endpoint"))).toEqual([
      `spec.ensure.with: refers to input "endpoint", which the unit's inputs do not declare`,
    ]);
  });
});
