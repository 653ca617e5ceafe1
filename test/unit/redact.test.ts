import { describe, expect, it } from "vitest";
import { Redactor } from "../../steps/core/redact.js";
import { createLogger } from "../../steps/core/log.js";

const canary = "canary-Zq8x!p@ss/w0rd";

describe("Redactor", () => {
  it("masks a secret in every encoding it can travel in", () => {
    const r = new Redactor();
    r.register(canary);
    const b64 = Buffer.from(canary).toString("base64");
    const text = [canary, b64, b64.replace(/=+$/, ""), Buffer.from(canary).toString("base64url"), encodeURIComponent(canary), JSON.stringify({ p: canary })].join(" | ");
    const masked = r.mask(text);
    expect(masked).not.toContain(canary);
    expect(masked).not.toContain(b64.replace(/=+$/, ""));
    expect(masked).not.toContain(encodeURIComponent(canary));
    expect(masked).toContain("[REDACTED]");
  });

  it("leaves text alone until something is registered, and ignores values too short to mask safely", () => {
    const r = new Redactor();
    expect(r.mask("nothing here")).toBe("nothing here");
    r.register("ab");
    expect(r.mask("about a tab")).toBe("about a tab");
  });

  it("masks secrets inside log lines, including error objects with request bodies", () => {
    const r = new Redactor();
    r.register(canary);
    const lines: string[] = [];
    const log = createLogger({ redactor: r, phase: "test", sink: { write: (l) => lines.push(l) }, pretty: false });
    const err = Object.assign(new Error(`request failed: body={"data":{"password":"${Buffer.from(canary).toString("base64")}"}}`), { body: canary });
    log.error({ err, extra: { nested: [canary] } }, `oops ${canary}`);
    expect(lines.join("")).not.toContain(canary);
    expect(lines.join("")).not.toContain(Buffer.from(canary).toString("base64"));
    expect(JSON.parse(lines[0]!).msg).toBe("oops [REDACTED]");
  });
});

describe("Redactor matching", () => {
  it("masks the longest registered value where two start at the same place, and every occurrence", () => {
    const r = new Redactor();
    r.register("abcd1234");
    r.register("abcd12345678");
    expect(r.mask("x abcd12345678 y abcd1234 z abcd12345678")).toBe("x [REDACTED] y [REDACTED] z [REDACTED]");
  });

  it("masks values that overlap or sit at the very start and end of the text", () => {
    const r = new Redactor();
    r.register("s3cr3t-one");
    r.register("t-one-two");
    expect(r.mask("s3cr3t-one")).toBe("[REDACTED]");
    expect(r.mask("s3cr3t-one-two")).toBe("[REDACTED]-two");
    expect(r.mask("pre t-one-two")).toBe("pre [REDACTED]");
  });

  it("registering the same value twice adds nothing", () => {
    const r = new Redactor();
    r.register(canary);
    const size = r.size;
    r.register(canary);
    expect(r.size).toBe(size);
  });
});
