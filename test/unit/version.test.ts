// One version for everything reseed ships: package.json's. The npm package, the chart
// (version and appVersion) and the five images (tagged by `make images` with it, and run by
// the chart through its appVersion) must agree, or a pinned install mixes releases.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const read = (file: string) => readFileSync(path.join(root, file), "utf8");
const pkg = JSON.parse(read("package.json")) as {
  version: string;
  bin: Record<string, string>;
  files: string[];
  dependencies?: object;
};
const chart = parse(read("charts/reseed/Chart.yaml")) as { version: string; appVersion: string };
const values = parse(read("charts/reseed/values.yaml")) as { image: Record<string, unknown> };

describe("one version", () => {
  it("package.json's version is a release version", () => {
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
  });

  it("Chart.yaml's appVersion and version are package.json's", () => {
    expect(chart.appVersion, "charts/reseed/Chart.yaml appVersion").toBe(pkg.version);
    expect(chart.version, "charts/reseed/Chart.yaml version").toBe(pkg.version);
  });

  it("the pre-commit hooks name this version's cli image and tag", () => {
    const hooks = read(".pre-commit-hooks.yaml");
    expect(hooks).toContain(`ghcr.io/reseed-dev/reseed-cli:${pkg.version} lint`);
    expect(hooks).toContain(`npx --yes reseed@${pkg.version} lint`);
    expect(hooks).toContain(`rev: v${pkg.version}`);
  });

  it("the chart's image tag is not set, so it follows appVersion", () => {
    expect(values.image).not.toHaveProperty("tag");
  });
});

describe("the npm package", () => {
  it("publishes the bundled CLI only, as the reseed bin, with no dependencies to install", () => {
    expect(pkg.bin).toEqual({ reseed: "dist/reseed.mjs" });
    expect(pkg.files).toEqual(["dist/reseed.mjs", "dist/reseed.bundle.mjs", "dist/reseed.bundle.mjs.LEGAL.txt"]);
    // Everything the CLI needs is bundled into dist/reseed.bundle.mjs by steps/build.mjs; dist/reseed.mjs checks the Node version, then loads it.
    expect(pkg).not.toHaveProperty("dependencies");
  });
});
