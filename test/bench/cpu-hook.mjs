// Loaded into a benchmarked step process with --import: appends the program's name and its CPU
// time (user + system, microseconds) at exit, one line per process, so one file can collect a
// whole DAG run.
import { appendFileSync } from "node:fs";
import { basename } from "node:path";

process.on("exit", () => {
  if (!process.env.RESEED_BENCH_CPU_FILE) return;
  const { user, system } = process.cpuUsage();
  appendFileSync(process.env.RESEED_BENCH_CPU_FILE, `${basename(process.argv[1] ?? "", ".mjs")} ${user + system}\n`);
});
