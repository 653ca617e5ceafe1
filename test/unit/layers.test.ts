// The layer rule (eslint.config.mjs) is only worth having if it fails: lint an upward import
// from each layer, as a file at that place in the tree would have it, an import of test code
// from product code, and the imports that pass: downward ones, and a kind's conformance cases
// (test code in its folder) importing test/.
import { ESLint } from "eslint";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const eslint = new ESLint({ cwd: root });

async function restricted(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${source}\nexport const used = x;\n`, { filePath: path.join(root, file) });
  return (result?.messages ?? []).filter((m) => m.ruleId === "no-restricted-imports").map((m) => m.message);
}

describe("the import-boundary lint", () => {
  it.each([
    ["steps/core/fixture.ts", 'import { x } from "../stores/index.js";'],
    ["steps/core/fixture.ts", 'import { x } from "../runtime/phases.js";'],
    ["steps/stores/vault/fixture.ts", 'import { x } from "../../kinds/metadata.js";'],
    ["steps/inputs/fixture.ts", 'import { x } from "../kinds/kind.js";'],
    ["steps/kinds/coder-admin/fixture.ts", 'import { x } from "../../runtime/unit.js";'],
    ["steps/runtime/fixture.ts", 'import { x } from "../cli/load.js";'],
    // A kind's conformance cases are test code, but still sit in the kinds layer.
    ["steps/kinds/coder-admin/conformance.ts", 'import { x } from "../../runtime/unit.js";'],
  ])("fails %s on an upward import: %s", async (file, source) => {
    expect(await restricted(file, source)).toEqual([expect.stringContaining("must not import a layer above it")]);
  });

  it.each([
    ["steps/core/fixture.ts", 'import { x } from "../../test/harness/kube.js";'],
    ["steps/kinds/coder-admin/index.ts", 'import { x } from "../../../test/conformance/cases.js";'],
    ["steps/kinds/coder-admin/index.ts", 'import { x } from "./conformance.js";'],
    ["steps/runtime/fixture.ts", 'import { x } from "../kinds/coder-admin/conformance.js";'],
    ["steps/cli/fixture.ts", 'import { x } from "../../test/harness/steps.js";'],
  ])("fails %s on an import of test code: %s", async (file, source) => {
    expect(await restricted(file, source)).toEqual([expect.stringContaining("must not import test code")]);
  });

  it.each([
    ["steps/stores/fixture.ts", 'import { x } from "../core/spec.js";'],
    ["steps/kinds/coder-admin/fixture.ts", 'import { x } from "../kind.js";'],
    ["steps/kinds/coder-admin/fixture.ts", 'import { x } from "../../stores/index.js";'],
    ["steps/runtime/fixture.ts", 'import { x } from "../kinds/registry.js";'],
    ["steps/cli/fixture.ts", 'import { x } from "../runtime/unit.js";'],
    ["steps/kinds/coder-admin/conformance.ts", 'import { x } from "../../../test/harness/coder-server.js";'],
    ["steps/kinds/coder-admin/conformance.ts", 'import { x } from "../../../test/conformance/cases.js";'],
  ])("passes %s on a downward import: %s", async (file, source) => {
    expect(await restricted(file, source)).toEqual([]);
  });
});
