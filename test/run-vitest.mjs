// Runs vitest and closes with a plain "N passed, N failed" line, which CI reads to know
// how many tests ran; vitest's own summary is not a format CI recognises.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const dir = mkdtempSync(path.join(tmpdir(), "reseed-vitest-"));
const report = path.join(dir, "report.json");
const [cmd, ...args] = process.argv.slice(2);
const r = spawnSync(cmd, [...args, "--reporter=default", "--reporter=json", `--outputFile.json=${report}`], {
  stdio: "inherit",
});
let summary = "tests: 0 passed, 0 failed";
try {
  const j = JSON.parse(readFileSync(report, "utf8"));
  // A file that failed with no failed test in it (an import error, a failing hook) counts as
  // one failure. vitest's numFailedTestSuites would count each describe around a failed test.
  const fileErrors = (j.testResults ?? []).filter(
    (f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed"),
  ).length;
  const skipped = j.numPendingTests ? `, ${j.numPendingTests} skipped` : "";
  summary = `tests: ${j.numPassedTests} passed, ${j.numFailedTests + fileErrors} failed${skipped}`;
} catch {
  summary = "tests: 0 passed, 1 failed";
}
rmSync(dir, { recursive: true, force: true });
console.log(summary);
process.exit(r.status ?? 1);
