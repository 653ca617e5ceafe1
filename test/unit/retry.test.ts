import { describe, expect, it } from "vitest";
import { backoffDelay, retryUntil } from "../../steps/core/retry.js";

describe("retryUntil", () => {
  it("backs off exponentially with full jitter, capped", () => {
    expect(backoffDelay(1, 500, 10_000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 10_000, () => 1)).toBe(2000);
    expect(backoffDelay(10, 500, 10_000, () => 1)).toBe(10_000);
    expect(backoffDelay(3, 500, 10_000, () => 0.5)).toBe(1000);
  });

  it("stops at the deadline and returns the last error, never retrying forever", async () => {
    let now = 0;
    const r = await retryUntil(
      async (attempt) => {
        throw new Error(`attempt ${attempt}`);
      },
      { deadline: 5_000, now: () => now, sleep: async (ms) => void (now += ms), random: () => 1 },
    );
    expect(r).toMatchObject({ ok: false, lastError: new Error(`attempt ${r.attempts}`) });
    expect(now).toBe(5_000);
  });

  it("returns as soon as an attempt succeeds", async () => {
    const r = await retryUntil(async (a) => (a < 3 ? Promise.reject(new Error("no")) : "yes"), {
      deadline: Date.now() + 10_000,
      sleep: async () => {},
    });
    expect(r).toEqual({ ok: true, value: "yes", attempts: 3 });
  });
});
