import { pino, type Logger } from "pino";
import type { Redactor } from "./redact.js";

export type { Logger };

export interface LogSink {
  write(line: string): void;
}

/**
 * JSON lines for Argo's log viewer and log shippers; a short human form on a terminal or
 * with RESEED_LOG_FORMAT=text.
 * Every line is masked by the redactor after serialisation, so no field, error message or
 * nested object can carry a registered secret out.
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
  const stream = {
    write(line: string) {
      const masked = opts.redactor.mask(line);
      sink.write(pretty ? prettyLine(masked) : masked);
    },
  };
  return pino(
    {
      level: opts.level ?? process.env.RESEED_LOG_LEVEL ?? "info",
      base: { phase: opts.phase, ...(opts.unit ? { unit: opts.unit } : {}) },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      messageKey: "msg",
    },
    stream,
  );
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
