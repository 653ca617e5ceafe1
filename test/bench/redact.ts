// make bench, part 3: what masking costs. Every byte a step writes passes the redactor, so
// its cost is measured on (a) 1 MiB of log text and (b) single log lines through the real
// logger, both with 2,000 secrets registered (a large secret-sync), each against a baseline
// measured in the same run: JSON.stringify of the same text (what the logger does to every
// line anyway) and the same logger with nothing registered. Figures, not assertions.
import { randomBytes } from "node:crypto";
import { createLogger } from "../../steps/core/log.js";
import { Redactor } from "../../steps/core/redact.js";

const SECRETS = Number(process.env.RESEED_BENCH_REDACT_SECRETS ?? 2000);
const RUNS = Number(process.env.RESEED_BENCH_RUNS ?? 7);
const LINES = 20_000;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = (fn: () => unknown) => {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};

// Secrets like a sync's: 16 to 64 characters, some with characters every encoding treats apart.
const secrets = Array.from({ length: SECRETS }, (_, i) => {
  const s = randomBytes(12 + (i % 37)).toString("base64url");
  return i % 5 === 0 ? `${s.slice(0, 8)}*!'()~ é+/=%${s.slice(8)}` : s;
});

// Run with --expose-gc (make bench does) for a memory figure that is not GC noise.
const gc = (globalThis as { gc?: () => void }).gc;
const memory = () => {
  gc?.();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};
const heapBefore = memory();
const redactor = new Redactor();
const registerMs = time(() => {
  for (const s of secrets) redactor.register(s);
});
const heapMiB = (memory() - heapBefore) / 2 ** 20;

// 1 MiB of log-like JSON lines, one in fifty quoting a secret (raw, base64 or URL-encoded).
const lines: string[] = [];
let size = 0;
for (let i = 0; size < 2 ** 20; i++) {
  const s = secrets[i % secrets.length]!;
  const quoted = i % 50 === 0 ? [s, Buffer.from(s).toString("base64"), encodeURIComponent(s)][i % 3] : `key-${i}`;
  const line = JSON.stringify({
    level: "info",
    time: new Date(0).toISOString(),
    phase: "ensure-state",
    event: "sync.key",
    key: `app/${i}`,
    detail: `wrote ${quoted}`,
  });
  lines.push(line);
  size += line.length + 1;
}
const text = lines.join("\n").slice(0, 2 ** 20);

const maskMs = median(Array.from({ length: RUNS }, () => time(() => redactor.mask(text))));
const stringifyMs = median(Array.from({ length: RUNS }, () => time(() => JSON.stringify(text))));
const masked = redactor.mask(text);
const maskedCount = masked.split("[REDACTED]").length - 1;

// One log line at a time, through the step's real logger.
const sink = { write: () => {} };
const perLine = (r: Redactor) => {
  const log = createLogger({ redactor: r, phase: "ensure-state", unit: "bench", sink, pretty: false });
  return (
    (median(
      Array.from({ length: RUNS }, () =>
        time(() => {
          for (let i = 0; i < LINES; i++)
            log.info({ event: "sync.key", key: `app/${i}`, changes: ["added key password"] }, "state changed");
        }),
      ),
    ) *
      1000) /
    LINES
  );
};
const lineUs = perLine(redactor);
const lineBaselineUs = perLine(new Redactor());

const f = (n: number, d = 1) => n.toFixed(d);
console.log(`masking, ${SECRETS} secrets registered (${redactor.size} forms), median of ${RUNS} runs:`);
console.log(
  `  register ${SECRETS} secrets: ${f(registerMs)} ms, memory +${f(heapMiB)} MiB${gc ? "" : " (without --expose-gc: GC noise)"}`,
);
console.log(
  `  mask 1 MiB of log text (${maskedCount} secrets in it): ${f(maskMs)} ms = ${f(1000 / maskMs)} MiB/s; JSON.stringify of the same text ${f(stringifyMs)} ms (x${f(maskMs / stringifyMs)})`,
);
console.log(
  `  one log line through the logger: ${f(lineUs, 2)} µs; with nothing registered ${f(lineBaselineUs, 2)} µs (x${f(lineUs / lineBaselineUs, 2)})`,
);
