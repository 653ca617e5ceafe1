import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("../..", import.meta.url));

// The e2e suite: the chart in real Argo Workflows on a real cluster, reached through
// KUBECONFIG (see test/e2e/cluster.ts). Its own config, so `vitest` without a cluster
// never picks it up; `make e2e` and `make e2e-kind` run it.
export default defineConfig({
  test: {
    root,
    name: "e2e",
    include: ["test/e2e/**/*.test.ts"],
    globalSetup: ["test/e2e/global-setup.ts"],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
