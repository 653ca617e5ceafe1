// The GitHub workflows cannot run in the tests (actionlint checks their syntax in make release-check);
// what can be checked is that every command they run is a make target that exists, so what
// CI and a release do is what a maintainer can run, and most of it runs in make test.
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const read = (file: string) => readFileSync(path.join(root, file), "utf8");
const makefiles = ["Makefile", "release/release.mk", "test/cluster/cluster.mk", "test/servers/servers.mk"]
  .map(read)
  .join("\n");

interface Workflow {
  jobs: Record<string, { steps: { run?: string; uses?: string }[] }>;
}

describe.each(["ci.yml", "release.yml"])(".github/workflows/%s", (file) => {
  const workflow = parse(read(`.github/workflows/${file}`)) as Workflow;
  const runs = Object.values(workflow.jobs).flatMap((j) => j.steps.flatMap((s) => (s.run ? [s.run.trim()] : [])));

  it("runs something", () => {
    expect(runs.length).toBeGreaterThan(0);
  });

  it("runs only make targets that exist", () => {
    for (const run of runs) {
      const m = /^(?:sudo -E env "PATH=\$PATH" )?make ([\w-]+)(?: [A-Z_]+="?\$?\w+"?)*(?:\s+#.*)?$/.exec(run);
      expect(m, `'${run}' is not one make target`).not.toBeNull();
      expect(makefiles, `make target ${m![1]} (run by ${file})`).toMatch(new RegExp(`^(?:[\\w.-]+ )*${m![1]}:`, "m"));
    }
  });
});
