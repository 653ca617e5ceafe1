import type { Redactor } from "./redact.js";

export interface LogSink {
  write(line: string): void;
}

/** What a step logs through: a record of fields and a message, one JSON line each. */
export interface Logger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
  /** The same logger, its lines naming the unit: the step knows the unit only after reading it. */
  forUnit(unit: string): Logger;
}

type Level = Exclude<keyof Logger, "forUnit">;
const LEVELS: Record<Level | "silent", number> = { debug: 20, info: 30, warn: 40, error: 50, silent: Infinity };

/**
 * JSON lines for Argo's log viewer and log shippers; a short human form on a terminal or
 * with RESEED_LOG_FORMAT=text.
 * Every line is masked by the redactor after serialisation, so no field, error message or
 * nested object can carry a registered secret out.
 *
 * A line is `{"level","time","phase","unit",…fields,"msg"}`, the shape pino wrote before: a
 * logging library cost each step about 10 ms of its start (docs/figures.md), for the four
 * levels and one line format a step uses.
 */
export function createLogger(opts: {
  redactor: Redactor;
  phase: string;
  unit?: string;
  sink?: LogSink;
  pretty?: boolean;
  level?: string;
}): Logger {
  const sink = opts.sink ?? process.stdout;
  // RESEED_LOG_FORMAT=text asks for the human form where there is no terminal (`argo logs`);
  // =json for JSON on a terminal. JSON otherwise: log pipelines parse it.
  const format = process.env.RESEED_LOG_FORMAT;
  const pretty = opts.pretty ?? (format === "text" || (process.stdout.isTTY === true && format !== "json"));
  const wanted = opts.level ?? process.env.RESEED_LOG_LEVEL ?? "info";
  const known = Object.hasOwn(LEVELS, wanted);
  const threshold = LEVELS[known ? (wanted as Level) : "info"];

  const make = (unit: string | undefined): Logger => {
    const base = { phase: opts.phase, ...(unit ? { unit } : {}) };
    const write = (level: Level, fields: object, msg: string) => {
      if (LEVELS[level] < threshold) return;
      const own = { level, time: new Date().toISOString(), ...base };
      // A field cannot stand in for the line's own keys; Object.assign keeps their place first.
      const line = `${serialize(Object.assign({ ...own, ...fields, msg }, own))}\n`;
      const masked = opts.redactor.mask(line);
      sink.write(pretty ? prettyLine(masked) : masked);
    };
    return {
      debug: (fields, msg) => write("debug", fields, msg),
      info: (fields, msg) => write("info", fields, msg),
      warn: (fields, msg) => write("warn", fields, msg),
      error: (fields, msg) => write("error", fields, msg),
      forUnit: make,
    };
  };
  const log = make(opts.unit);
  if (!known)
    log.warn(
      { event: "log.level-unknown", wanted },
      `RESEED_LOG_LEVEL ${wanted} is not one of ${Object.keys(LEVELS).join(", ")}; logging at info`,
    );
  return log;
}

/**
 * JSON that a log line can always be made of: an Error as its type, message, stack and own
 * fields (a client's error carries its response there, which the redactor then masks), a
 * bigint as a string, and, should a record hold a cycle, every object met again as "[Circular]".
 */
function serialize(record: object): string {
  try {
    return JSON.stringify(record, plain);
  } catch {
    const seen = new WeakSet<object>();
    return JSON.stringify(record, (key: string, value: unknown) => {
      const v: unknown = plain(key, value);
      if (v === null || typeof v !== "object") return v;
      if (seen.has(v)) return "[Circular]";
      seen.add(v);
      return v;
    });
  }
}

function plain(_key: string, value: unknown): unknown {
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error)
    return Object.assign({ type: value.name, message: value.message, stack: value.stack }, value) as object;
  return value;
}

const omitInPretty = new Set(["level", "time", "msg", "phase", "unit"]);

export function prettyLine(jsonLine: string): string {
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine;
  }
  const time = typeof rec.time === "string" ? rec.time.slice(11, 19) : "";
  const level = String(rec.level ?? "")
    .toUpperCase()
    .padEnd(5);
  const fields = Object.entries(rec)
    .filter(([k]) => !omitInPretty.has(k))
    .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${time} ${level} [${String(rec.phase ?? "")}] ${String(rec.msg ?? "")}${fields ? `  ${fields}` : ""}\n`;
}
