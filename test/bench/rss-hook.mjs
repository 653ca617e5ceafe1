// Loaded into a benchmarked step process with --import: records its peak RSS at exit.
import { writeFileSync } from "node:fs";

process.on("exit", () => {
  if (process.env.RESEED_BENCH_RSS_FILE)
    writeFileSync(process.env.RESEED_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS));
});
