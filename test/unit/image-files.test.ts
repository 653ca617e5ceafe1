// A step image holds only the files steps/Dockerfile copies into it (no docker here): those
// files, copied as its COPY lines say (the prebuilt stage from dist/, then each step's from
// that stage), must run the step, and a step loads its unit's kind from a chunk beside its
// bundle (steps/build.mjs). Each kind is loaded once per step through a unit whose settings
// that kind refuses: exit 10 and the kind's own problem prove its chunk was in the image.
import { spawnSync } from "node:child_process";
import { cpSync, globSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { kinds } from "../../steps/kinds/registry.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const steps = ["validate-inputs", "wait-deps", "ensure-state", "verify"];

/** Each stage's COPY lines as [sources, destination, --from stage]. */
function copies(): Map<string, { from?: string; sources: string[]; dest: string }[]> {
  const stages = new Map<string, { from?: string; sources: string[]; dest: string }[]>();
  let stage = "";
  for (const line of readFileSync(path.join(root, "steps/Dockerfile"), "utf8").split("\n")) {
    const from = /^FROM\s.*\sAS\s+(\S+)/i.exec(line);
    if (from) stages.set((stage = from[1]!), []);
    const copy = /^COPY\s+(?:--from=(\S+)\s+)?(.+)$/.exec(line);
    if (!copy) continue;
    const args = copy[2]!.split(/\s+/);
    stages.get(stage)!.push({ from: copy[1], sources: args.slice(0, -1), dest: args[args.length - 1]! });
  }
  return stages;
}

/** Does one COPY: a source directory's contents, or each file a glob matches, into dest. */
function copy(fromDir: string, sources: string[], dest: string, toDir: string): void {
  for (const src of sources) {
    for (const match of globSync(src.replace(/^\//, ""), { cwd: fromDir })) {
      const file = path.join(fromDir, match);
      const target = statSync(file).isDirectory()
        ? path.join(toDir, dest)
        : dest.endsWith("/")
          ? path.join(toDir, dest, path.basename(match))
          : path.join(toDir, dest);
      cpSync(file, target, { recursive: true });
    }
  }
}

const scratch = mkdtempSync(path.join(tmpdir(), "reseed-image-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the step images' files", () => {
  const stages = copies();
  const prebuilt = path.join(scratch, "prebuilt");
  for (const c of stages.get("prebuilt") ?? []) copy(root, c.sources, c.dest, prebuilt);

  it.each(steps)(
    "%s: runs from only what its image copies, and finds every kind's chunk",
    (step) => {
      const image = path.join(scratch, step);
      for (const c of stages.get(step) ?? []) {
        expect(c.from, `${step} copies from the bundles stage`).toBe("bundles");
        copy(prebuilt, c.sources, c.dest, image);
      }
      for (const kind of kinds.names()) {
        const unit = {
          apiVersion: "reseed.dev/v1alpha1",
          kind: "SeedingUnit",
          metadata: { name: "image-files" },
          spec: { pattern: "reconciler", ensure: { kind, with: { notASetting: true } } },
        };
        const r = spawnSync(process.execPath, [path.join(image, "app/step.mjs")], {
          cwd: scratch,
          env: { PATH: process.env.PATH, RESEED_UNIT: JSON.stringify(unit), RESEED_LOG_FORMAT: "json" },
          encoding: "utf8",
        });
        expect(r.stderr, `${step} ${kind}`).toBe("");
        expect(r.stdout, `${step} ${kind}`).toContain('"subject":"spec.ensure.with');
        expect(r.status, `${step} ${kind}`).toBe(10);
      }
    },
    120_000,
  );
});
