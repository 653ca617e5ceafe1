// vitest runs a file only when a project's include matches it, and says nothing about a file
// no project matches: such a test never runs in `make test`. A file two projects match runs
// twice, once without the setup it was written for. So every *.test.ts under test/ must be
// matched by exactly one project, of test/vitest.config.ts or of the e2e suite's own config.
import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { TestProjectInlineConfiguration, ViteUserConfig } from "vitest/config";
import main from "../vitest.config.js";
import e2e from "../e2e/vitest.config.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** Every *.test.ts under test/, relative to the root with forward slashes (as the includes are). */
function testFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) return testFiles(rel);
    return e.name.endsWith(".test.ts") ? [rel] : [];
  });
}

/** The inline projects of a config: their names, include and exclude globs. */
function inlineProjects(
  config: ViteUserConfig,
  file: string,
): { name: string; include: string[]; exclude: string[] }[] {
  return (config.test?.projects ?? []).map((p) => {
    if (typeof p !== "object" || !("test" in p))
      throw new Error(`${file}: a project given as ${typeof p}, not inline; this test reads only inline`);
    const { name, include, exclude } = (p as TestProjectInlineConfiguration).test ?? {};
    if (typeof name !== "string" || !include?.length)
      throw new Error(`${file}: a vitest project without a name or an include: ${JSON.stringify(p.test)}`);
    return { name, include, exclude: exclude ?? [] };
  });
}

/** Every project of both configs. */
function projects(): { name: string; include: string[]; exclude: string[] }[] {
  return [...inlineProjects(main, "test/vitest.config.ts"), ...inlineProjects(e2e, "test/e2e/vitest.config.ts")];
}

describe("every test file belongs to exactly one vitest project", () => {
  const all = projects();
  const files = testFiles("test");

  it("reads the projects and finds the test files", () => {
    expect(all.map((p) => p.name).sort()).toEqual(["chart", "corpus", "e2e", "e2e-beside", "integration", "unit"]);
    expect(files.length).toBeGreaterThan(40);
  });

  it.each(files)("%s", (file) => {
    const matches = (globs: string[]) => globs.some((glob) => path.matchesGlob(file, glob));
    const owners = all.filter((p) => matches(p.include) && !matches(p.exclude)).map((p) => p.name);
    expect(owners, `${file} is matched by the projects ${JSON.stringify(owners)}`).toHaveLength(1);
  });
});
