// The leak hunt must fail when there is a leak: a step bundle with a test-only kind that
// publishes its server's echo unmasked (test/conformance/planted/) is hunted exactly as the
// conformance suite hunts every registered kind, and the hunt has to find the canaries.
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { loadKinds } from "../../steps/kinds/kind.js";
import { unitPermissions } from "../../steps/runtime/permissions.js";
import { loadUnit } from "../../steps/runtime/unit.js";
import { connectKube } from "../harness/kube.js";
import { Admin } from "../harness/kube-admin.js";
import { huntLeaks, startHuntServer, type HuntServer } from "./hunt-runner.js";
import { plantedKinds } from "./planted/registry.js";

const plantedRegistry = await loadKinds(plantedKinds);

const kube = connectKube(inject("kube"));
const admin = new Admin(kube.adminKubeconfig);
const ns = "conf-planted-leak";
const sa = "unit";
let programDir: string;
let kubeconfig: string;
let hunt: HuntServer;

beforeAll(async () => {
  programDir = await mkdtemp(join(tmpdir(), "reseed-planted-"));
  await build({
    entryPoints: [new URL("./planted/step.ts", import.meta.url).pathname],
    outfile: join(programDir, "planted.mjs"),
    bundle: true,
    platform: "node",
    target: "node24",
    format: "esm",
    logLevel: "warning",
    banner: {
      js: 'import { createRequire as __reseedCreateRequire } from "node:module"; const require = __reseedCreateRequire(import.meta.url);',
    },
  });
  for (const phase of ["validate-inputs", "wait-deps", "ensure-state", "verify"]) {
    await writeFile(
      join(programDir, `${phase}.mjs`),
      `process.env.RESEED_PLANTED_PHASE = ${JSON.stringify(phase)};\nawait import("./planted.mjs");\n`,
    );
  }
  await admin.namespace(ns);
  kubeconfig = await kube.kubeconfigFor(ns, sa);
  hunt = await startHuntServer(join(programDir, "hunt"));
});
afterAll(() => hunt?.hostile.stop());

const unitFor = (leak: "configMap" | "stdout") => ({
  apiVersion: "reseed.dev/v1alpha1",
  kind: "SeedingUnit",
  metadata: { name: `planted-${leak.toLowerCase()}` },
  spec: {
    pattern: "reconciler",
    inputs: { token: { secretKeyRef: { name: "planted", key: "token" } } },
    ensure: { kind: "planted-leak", with: { url: "http://127.0.0.1:9/echo", token: { input: "token" }, leak } },
  },
});

describe("the leak hunt on a planted leak", () => {
  it.each([
    ["configMap", "ConfigMap"],
    ["stdout", "ensure-state stdout"],
  ] as const)(
    "fails on a kind that writes the echo into a %s, naming where",
    async (leak, where) => {
      const r = await huntLeaks({
        unit: unitFor(leak),
        namespace: ns,
        user: `system:serviceaccount:${ns}:${sa}`,
        kubeconfig,
        env: {},
        admin,
        kube,
        grant: (u) => admin.grant(ns, sa, unitPermissions(loadUnit(u, plantedRegistry), ns)),
        settingsOf: (u) => loadUnit(u, plantedRegistry).settings,
        hunt,
        workflowName: `planted-${leak.toLowerCase()}`,
        programDir,
      });
      expect(r.endpoints).toEqual(["spec.ensure.with.url"]);
      expect(r.unreached).toEqual([]);
      expect(r.leaks.length).toBeGreaterThan(0);
      expect(r.leaks.some((l) => l.where.includes(where) && l.secret.startsWith("canary token"))).toBe(true);
    },
    10 * 60_000,
  );
});
