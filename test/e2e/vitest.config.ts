import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL("../..", import.meta.url));

// The e2e suite: the chart in real Argo Workflows on a real cluster, reached through
// KUBECONFIG (see test/e2e/cluster.ts). Its own config, so `vitest` without a cluster
// never picks it up; `make e2e` and `make e2e-kind` run it.
//
// Most of its time is spent waiting (on step pods, on `* * * * *` ticks), so files that do
// not disturb one another run three at a time: two at a time left the third longest of the
// five, argo-step-faults, to start after 6 minutes. The files that act on the whole cluster
// run first, one at a time, with nothing beside them: argo-faults restarts the API server and
// kills the workflow controller, evidence-archive reconfigures and restarts the controller,
// container-set applies the chart to namespace `reseed` in the other run mode. The others
// stay out of each other's way: argo-cd and fresh-install install into namespaces of their
// own, and argo, fan-out and argo-step-faults (a step killed in its own unit's run), which
// share `reseed`, assert on their own units' writes (what the tests themselves write there is
// not counted) and resume and suspend only their own units; argo's hook test applies only its
// unit's objects of the chart again (applyChartUnit), not the others' CronWorkflows.
const exclusive = ["argo-faults", "evidence-archive", "container-set"].map((f) => `test/e2e/${f}.test.ts`);
const shared = {
  root,
  // Each project runs it once; it only waits for Argo and applies the chart, so running it
  // twice changes nothing.
  globalSetup: ["test/e2e/global-setup.ts"],
  testTimeout: 300_000,
  hookTimeout: 300_000,
};

export default defineConfig({
  test: {
    maxWorkers: 3,
    projects: [
      {
        test: {
          ...shared,
          name: "e2e",
          include: exclusive,
          maxWorkers: 1,
          // 1, not 0: vitest runs a one-worker project of group 0 after every other group.
          sequence: { concurrent: false, groupOrder: 1 },
        },
      },
      {
        test: {
          ...shared,
          name: "e2e-beside",
          include: ["test/e2e/**/*.test.ts"],
          exclude: exclusive,
          maxWorkers: 3,
          sequence: { concurrent: false, groupOrder: 2 },
        },
      },
    ],
  },
});
