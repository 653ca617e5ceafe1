import type { ObjectAccess, Path } from "../../core/access.js";
import type { KindContext } from "../kind.js";
import { isNotFound } from "../../core/kube.js";
import type { Dependency } from "../../core/spec.js";
import type { SqlFile } from "./plan.js";
import type { SqlFiles } from "./settings.js";

// SQL files come from a ConfigMap: Git holds them (the chart or kustomize renders the
// ConfigMap), Argo CD syncs them, and a ConfigMap is never secret, which is the rule for
// these files. Keys ending in .sql are the files; other keys are ignored.

const where = (f: SqlFiles, namespace: string) => ({
  name: f.configMap.name,
  namespace: f.configMap.namespace ?? namespace,
});

export async function readSqlFiles(ctx: KindContext, files: SqlFiles): Promise<SqlFile[]> {
  const { name, namespace } = where(files, ctx.namespace);
  let data: Record<string, string>;
  try {
    data = (await ctx.kube().core.readNamespacedConfigMap({ name, namespace })).data ?? {};
  } catch (err) {
    if (isNotFound(err)) throw new Error(`ConfigMap ${namespace}/${name} with the SQL files does not exist`);
    throw err;
  }
  const out = Object.entries(data)
    .filter(([k]) => k.endsWith(".sql"))
    .map(([k, text]) => ({ name: k, text }));
  if (!out.length) throw new Error(`ConfigMap ${namespace}/${name} has no keys ending in .sql`);
  return out;
}

export function sqlFilesDependency(files: SqlFiles, namespace: string): Dependency {
  const { name, namespace: ns } = where(files, namespace);
  return { kubernetes: { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name } };
}

/** Reading the ConfigMap of SqlFiles found at `path`. */
export function sqlFilesAccess(path: Path): ObjectAccess[] {
  return [{ path: [...path, "configMap"], object: { group: "", resource: "configmaps" }, verbs: "read" }];
}
