import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Redactor } from "../core/redact.js";

/**
 * Argo reads output parameters from files (`valueFrom.path`). Values pass the redactor like
 * everything else that leaves the step, though no phase puts secret material in them.
 */
export async function writeOutputs(dir: string, outputs: Record<string, string>, redactor: Redactor): Promise<void> {
  await mkdir(dir, { recursive: true });
  await Promise.all(
    Object.entries(outputs).map(([name, value]) => writeFile(path.join(dir, name), redactor.mask(value))),
  );
}
