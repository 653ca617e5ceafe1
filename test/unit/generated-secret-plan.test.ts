import { describe, expect, it } from "vitest";
import { planKeys } from "../../steps/kinds/generated-secret/plan.js";
import { charsets, generateValue } from "../../steps/kinds/generated-secret/generate.js";

const keys = ["password", "token"];
const all = (id: string | undefined) => ({ password: id, token: id });

describe("generated-secret plan", () => {
  it("creates every key when nothing exists", () => {
    expect(planKeys({ exists: false, present: [], rotationIds: {} }, keys, undefined)).toMatchObject({
      generate: ["password", "token"],
      changes: ["created with keys password, token"],
    });
  });

  it("adds only missing keys and never touches existing values", () => {
    const p = planKeys({ exists: true, present: ["password"], rotationIds: {} }, keys, undefined);
    expect(p).toMatchObject({ rotated: [], generate: ["token"], changes: ["added missing key token"] });
  });

  it("does nothing when every key exists (the zero-write rerun)", () => {
    const p = planKeys({ exists: true, present: keys, rotationIds: all("r1") }, keys, "r1");
    expect(p).toMatchObject({ generate: [], adopt: [], changes: [] });
  });

  it("adopts values that have no rotationId yet instead of rotating them", () => {
    const p = planKeys({ exists: true, present: keys, rotationIds: all(undefined) }, keys, "r1");
    expect(p).toMatchObject({
      rotated: [],
      adopt: ["password", "token"],
      generate: [],
      changes: ["adopted existing values under rotationId r1"],
    });
  });

  it("keeps values while the rotationId matches, and regenerates all keys once when it changes", () => {
    const rotated = planKeys({ exists: true, present: keys, rotationIds: all("r1") }, keys, "r2");
    expect(rotated).toMatchObject({ rotated: ["password", "token"], generate: ["password", "token"] });
    expect(rotated.changes).toEqual(["rotated password, token (rotationId r1 -> r2)"]);
  });

  it("plans per key where each key records its own rotationId (Key Vault)", () => {
    const p = planKeys(
      { exists: true, present: ["password", "token"], rotationIds: { password: "r2", token: "r1" } },
      [...keys, "extra"],
      "r2",
    );
    expect(p).toMatchObject({ rotated: ["token"], generate: ["token", "extra"], adopt: [] });
  });

  it("recovers a soft-deleted key instead of generating a new value, keeping its rotationId", () => {
    const p = planKeys(
      { exists: true, present: ["password"], rotationIds: { password: "r1", token: "r1" }, recoverable: ["token"] },
      keys,
      "r1",
    );
    expect(p).toMatchObject({
      recover: ["token"],
      generate: [],
      adopt: [],
      changes: ["recovered soft-deleted token (value kept)"],
    });
    const alone = planKeys(
      { exists: false, present: [], rotationIds: {}, recoverable: ["password", "token"] },
      keys,
      undefined,
    );
    expect(alone).toMatchObject({ recover: ["password", "token"], generate: [] });
  });

  it("rotates a recovered key only when its recorded rotationId differs, and adopts one without any", () => {
    const p = planKeys(
      {
        exists: false,
        present: [],
        rotationIds: { password: "r1", token: undefined },
        recoverable: ["password", "token"],
      },
      keys,
      "r2",
    );
    expect(p).toMatchObject({
      recover: ["password", "token"],
      rotated: ["password"],
      generate: ["password"],
      adopt: ["token"],
    });
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
