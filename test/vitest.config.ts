import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("..", import.meta.url));

// Projects: `unit` is pure logic and needs nothing; `chart` renders the chart with the real helm,
// lints it with the argo CLI and checks its monitoring with promtool, and needs no server (make
// test-fast leaves the monitoring file out: only make servers builds promtool); `corpus` starts
// an API server of its own; `integration` runs against the real servers the global setup starts
// (and fails, naming what is missing, if it cannot). Every test file is in exactly one project
// (test/unit/test-files.test.ts).
export default defineConfig({
  test: {
    root,
    reporters: ["default"],
    projects: [
      {
        extends: true,
        test: { name: "unit", include: ["test/unit/**/*.test.ts"] },
      },
      {
        // The bad-input corpus: the CLI, real helm, and a kube-apiserver of its own (so it
        // needs none of the integration servers).
        extends: true,
        test: { name: "corpus", include: ["test/corpus/**/*.test.ts"], testTimeout: 60_000 },
      },
      {
        extends: true,
        test: {
          name: "chart",
          include: ["test/chart/chart.test.ts", "test/chart/kinds.test.ts", "test/chart/monitoring.test.ts"],
          testTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: "integration",
          include: [
            "test/integration/**/*.test.ts",
            "test/conformance/**/*.test.ts",
            "test/harness/**/*.test.ts",
            "test/chart/images.test.ts",
          ],
          globalSetup: ["test/harness/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
