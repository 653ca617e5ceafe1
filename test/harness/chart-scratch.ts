// Each chart test file renders with values files of its own, written into a scratch
// directory that lives as long as the file's tests: one definition of that lifetime.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { valuesFiles } from "./helm.js";

/**
 * A scratch directory named `prefix`… and a values-file writer into it. Call it at the top
 * of the file: its beforeAll, which creates the directory, then runs before the file's own.
 */
export function chartScratch(prefix: string): { dir: () => string; valuesFile: (values: unknown) => string } {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), prefix));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return { dir: () => dir, valuesFile: valuesFiles(() => dir) };
}
