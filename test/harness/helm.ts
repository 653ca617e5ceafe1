import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const chartDir = path.join(root, "charts/reseed");
export const examples = {
  dev: path.join(chartDir, "examples/values-dev.yaml"),
  prod: path.join(chartDir, "examples/values-prod.yaml"),
  local: path.join(chartDir, "examples/values-local.yaml"),
};
export const NS = "reseed";
export const KUBE_VERSION = "1.34.0"; // helm built without release ldflags would assume 1.20

export interface Obj {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export function helmPath(): string {
  const helm = process.env.RESEED_HELM;
  if (!helm || !existsSync(helm)) {
    throw new Error(
      `RESEED_HELM must name a helm binary (got ${JSON.stringify(helm ?? null)}): run \`make servers\` to build it`,
    );
  }
  return helm;
}

export function run(
  bin: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { ok: boolean; out: string; err: string } {
  const r = spawnSync(bin, args, { encoding: "utf8", env, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

export function template(files: string[], ...flags: string[]): { ok: boolean; out: string; err: string } {
  return run(helmPath(), [
    "template",
    "reseed",
    chartDir,
    "--namespace",
    NS,
    "--kube-version",
    KUBE_VERSION,
    ...flags,
    ...files.flatMap((f) => ["--values", f]),
  ]);
}

export function parseObjects(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`rendered YAML does not parse: ${d.errors[0]!.message}`);
      return d.toJS() as Obj | null;
    })
    .filter((o): o is Obj => o !== null);
}

export function render(...files: string[]): Obj[] {
  const r = template(files);
  if (!r.ok) throw new Error(`helm template failed:\n${r.err}`);
  return parseObjects(r.out);
}

/** A writer of extra values files (JSON is YAML), numbered, into the directory dir() names when called. */
export function valuesFiles(dir: () => string): (values: unknown) => string {
  let counter = 0;
  return (values) => {
    const file = path.join(dir(), `values-${++counter}.yaml`);
    writeFileSync(file, JSON.stringify(values));
    return file;
  };
}
