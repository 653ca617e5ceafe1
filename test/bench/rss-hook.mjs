// Loaded into a benchmarked step process with --import: records its peak RSS (KiB) at exit.
// VmHWM is this process's own high-water mark. process.resourceUsage().maxRSS is not: Linux
// carries it across exec from the forked parent, so a child of a big bench process would
// report at least the parent's size (a bare `node -e 0` read 98 MiB under ts-node).
import { readFileSync, writeFileSync } from "node:fs";

const peakKiB = () => {
  const hwm = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync("/proc/self/status", { encoding: "utf8", flag: "r" }))?.[1];
  return hwm ? Number(hwm) : process.resourceUsage().maxRSS;
};

process.on("exit", () => {
  if (process.env.RESEED_BENCH_RSS_FILE) writeFileSync(process.env.RESEED_BENCH_RSS_FILE, String(peakKiB()));
});
