// The step logger's line format is read by `argo logs --grep step.summary`, reseed status'
// tests and log pipelines: one JSON object per line, level and time first, msg last.
import { describe, expect, it } from "vitest";
import { createLogger } from "../../steps/core/log.js";
import { Redactor } from "../../steps/core/redact.js";

function capture(level?: string) {
  const lines: string[] = [];
  const log = createLogger({
    redactor: new Redactor(),
    phase: "verify",
    unit: "u1",
    sink: { write: (l) => lines.push(l) },
    pretty: false,
    level,
  });
  return { log, lines, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("createLogger", () => {
  it("writes one JSON line per record: level, time, phase, unit, the fields, msg", () => {
    const { log, lines, records } = capture();
    log.info({ event: "check", ok: true }, "ok secret present");
    log.info({ level: "x", phase: "y", time: 0 }, "the line's own keys stand");
    expect(lines).toHaveLength(2);
    expect(lines[0]!.endsWith("}\n")).toBe(true);
    const [rec] = records();
    expect(Object.keys(rec!)).toEqual(["level", "time", "phase", "unit", "event", "ok", "msg"]);
    expect(rec).toMatchObject({ level: "info", phase: "verify", unit: "u1", event: "check", msg: "ok secret present" });
    expect(new Date(String(rec!.time)).toISOString()).toBe(rec!.time);
    expect(records()[1]).toMatchObject({ level: "info", phase: "verify", msg: "the line's own keys stand" });
    expect(typeof records()[1]!.time).toBe("string");
  });

  it("drops records below the level asked for", () => {
    const { log, records } = capture("warn");
    log.debug({}, "d");
    log.info({}, "i");
    log.warn({}, "w");
    log.error({}, "e");
    expect(records().map((r) => r.level)).toEqual(["warn", "error"]);
  });

  it("says so once and logs at info when the level is not one it knows", () => {
    const { log, records } = capture("verbose");
    log.debug({}, "d");
    log.info({}, "i");
    expect(records()).toMatchObject([{ level: "warn", event: "log.level-unknown", wanted: "verbose" }, { msg: "i" }]);
    expect(String(records()[0]!.msg)).toContain("RESEED_LOG_LEVEL verbose");
  });

  it("names the unit once the step knows it, with the same level and no second warning", () => {
    const { log, records } = capture("verbose");
    const named = log.forUnit("u2");
    named.debug({}, "d");
    named.info({}, "i");
    expect(records()).toMatchObject([
      { event: "log.level-unknown", unit: "u1" },
      { msg: "i", phase: "verify", unit: "u2" },
    ]);
    expect(records()).toHaveLength(2);
  });

  it("writes an Error as its type, message, stack and own fields, a bigint as text and a cycle as [Circular]", () => {
    const { log, records } = capture();
    const err = Object.assign(new TypeError("refused"), { status: 403 });
    const loop: Record<string, unknown> = { name: "loop" };
    loop.self = loop;
    const shared = { n: 1 };
    log.error({ err, size: 2n ** 64n, loop }, "failed");
    log.info({ a: shared, b: shared }, "shared");
    const [first, second] = records();
    expect(first!.err).toMatchObject({ type: "TypeError", message: "refused", status: 403 });
    expect(String((first!.err as { stack: string }).stack)).toContain("TypeError: refused");
    expect(first!.size).toBe("18446744073709551616");
    expect(first!.loop).toEqual({ name: "loop", self: "[Circular]" });
    // An object met twice without a cycle is written twice.
    expect(second).toMatchObject({ a: { n: 1 }, b: { n: 1 } });
  });
});
