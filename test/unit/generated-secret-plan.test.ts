import { describe, expect, it } from "vitest";
import { ROTATION_ANNOTATION, planSecret } from "../../steps/kinds/generated-secret/plan.js";
import { charsets, generateValue } from "../../steps/kinds/generated-secret/generate.js";

const keys = [{ name: "password" }, { name: "token" }];

describe("generated-secret plan", () => {
  it("creates every key when the Secret is absent", () => {
    expect(planSecret(undefined, keys, undefined)).toMatchObject({ create: true, generate: ["password", "token"] });
  });

  it("adds only missing keys and never touches existing values", () => {
    const p = planSecret({ data: { password: "kept" }, annotations: {} }, keys, undefined);
    expect(p).toMatchObject({ create: false, rotate: false, generate: ["token"], changes: ["added missing key token"] });
  });

  it("does nothing when every key exists (the zero-write rerun)", () => {
    expect(planSecret({ data: { password: "a", token: "b" }, annotations: {} }, keys, undefined).generate).toEqual([]);
  });

  it("adopts a Secret that has no rotationId yet instead of rotating it", () => {
    const p = planSecret({ data: { password: "a", token: "b" }, annotations: {} }, keys, "r1");
    expect(p).toMatchObject({ rotate: false, recordRotationId: true, generate: [] });
  });

  it("keeps values while the rotationId matches, and regenerates all keys once when it changes", () => {
    const data = { password: "a", token: "b" };
    expect(planSecret({ data, annotations: { [ROTATION_ANNOTATION]: "r1" } }, keys, "r1").generate).toEqual([]);
    const rotated = planSecret({ data, annotations: { [ROTATION_ANNOTATION]: "r1" } }, keys, "r2");
    expect(rotated).toMatchObject({ rotate: true, generate: ["password", "token"] });
    expect(rotated.changes[0]).toContain("r1 -> r2");
  });

  it("generates values of the requested length from the charset only", () => {
    for (const cs of Object.keys(charsets) as (keyof typeof charsets)[]) {
      const v = generateValue(64, cs);
      expect(v).toHaveLength(64);
      expect([...v].every((c) => charsets[cs].includes(c))).toBe(true);
    }
    expect(generateValue(32, "alphanumeric")).not.toBe(generateValue(32, "alphanumeric"));
  });
});
