// Every entry point in dist/ refuses an old Node with one line naming the version it needs,
// before the bundle is parsed. The old Node is simulated: a preload makes
// process.versions.node read 20.20.2 (the machine's own Node 20 does the same by hand).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const dist = fileURLToPath(new URL("../../dist/", import.meta.url));
const entries = ["reseed", "validate-inputs", "wait-deps", "ensure-state", "verify"];
const pretendNode20 =
  "data:text/javascript," +
  encodeURIComponent(
    'Object.defineProperty(process, "versions", { value: { ...process.versions, node: "20.20.2" } });',
  );

describe("Node version failfast", () => {
  it.each(entries)("dist/%s.mjs prints one line naming Node 24 on Node 20, and never loads the bundle", (name) => {
    const entry = path.join(dist, `${name}.mjs`);
    if (!existsSync(entry)) throw new Error(`${entry} is missing: run \`make build\` (make test does)`);
    const r = spawnSync(process.execPath, ["--import", pretendNode20, entry, "--help"], { encoding: "utf8" });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toBe(`${name}: needs Node.js 24 or newer (this is Node.js 20.20.2)\n`);
  });

  it("dist/reseed.mjs runs on this Node", () => {
    const r = spawnSync(process.execPath, [path.join(dist, "reseed.mjs"), "kinds"], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("generated-secret");
  });
});
