import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";

/**
 * Where a step's Kubernetes requests go and what they carry, from a kubeconfig or the pod's
 * ServiceAccount: what steps/core/kube.ts's small client needs. A kubeconfig it cannot serve
 * (exec and auth-provider plugins, basic auth, impersonation, a proxy) is handed to
 * @kubernetes/client-node instead (`fullClient`), which reads it in full.
 */
export type KubeTarget =
  | {
      server: string;
      ca?: Buffer;
      insecure: boolean;
      servername?: string;
      cert?: Buffer;
      key?: Buffer;
      /** A literal token, or a file read at each request (the kubelet rotates a projected token). */
      token?: { value: string } | { file: string };
      namespace?: string;
    }
  | { fullClient: string; namespace?: string };

/** The files client-node's loadFromDefault would read, in its order; in a pod, none (the ServiceAccount). */
function kubeconfigFiles(env: NodeJS.ProcessEnv): string[] {
  if (env.KUBECONFIG) return env.KUBECONFIG.split(delimiter).filter(Boolean);
  const home = join(env.HOME ?? homedir(), ".kube", "config");
  return existsSync(home) ? [home] : [];
}

const SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The pod's own credentials, as client-node's loadFromCluster reads them. */
function inCluster(env: NodeJS.ProcessEnv, dir = SERVICE_ACCOUNT): KubeTarget {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port)
    throw new Error(
      "no kubeconfig (KUBECONFIG, ~/.kube/config) and not in a pod (KUBERNETES_SERVICE_HOST is not set): give --kubeconfig",
    );
  const namespaceFile = join(dir, "namespace");
  return {
    server: `https://${host.includes(":") ? `[${host}]` : host}:${port}`,
    ca: readFileSync(join(dir, "ca.crt")),
    insecure: false,
    token: { file: join(dir, "token") },
    ...(existsSync(namespaceFile) ? { namespace: readFileSync(namespaceFile, "utf8").trim() } : {}),
  };
}

interface Named {
  name: string;
}
interface Cluster {
  server?: string;
  "certificate-authority"?: string;
  "certificate-authority-data"?: string;
  "insecure-skip-tls-verify"?: boolean;
  "tls-server-name"?: string;
  "proxy-url"?: string;
}
interface User {
  token?: string;
  tokenFile?: string;
  "client-certificate"?: string;
  "client-certificate-data"?: string;
  "client-key"?: string;
  "client-key-data"?: string;
  [other: string]: unknown;
}
interface Kubeconfig {
  clusters?: (Named & { cluster?: Cluster })[];
  users?: (Named & { user?: User })[];
  contexts?: (Named & { context?: { cluster?: string; user?: string; namespace?: string } })[];
  "current-context"?: string;
}

/** What the small client reads of a user; anything else there is a plugin or a mode it does not speak. */
const USER_FIELDS = new Set([
  "token",
  "tokenFile",
  "client-certificate",
  "client-certificate-data",
  "client-key",
  "client-key-data",
]);

/** Paths in a kubeconfig are relative to its own file, as kubectl reads them. */
function withAbsolutePaths(config: Kubeconfig, file: string): Kubeconfig {
  const abs = (p: string | undefined) => (p === undefined || isAbsolute(p) ? p : resolve(dirname(file), p));
  for (const c of config.clusters ?? [])
    if (c.cluster?.["certificate-authority"])
      c.cluster["certificate-authority"] = abs(c.cluster["certificate-authority"]);
  for (const u of config.users ?? []) {
    if (!u.user) continue;
    for (const key of ["tokenFile", "client-certificate", "client-key"] as const)
      if (typeof u.user[key] === "string") u.user[key] = abs(u.user[key]);
  }
  return config;
}

/** Several files merge as kubectl merges them: the first to name a cluster, user, context or current context wins. */
function merge(configs: Kubeconfig[]): Kubeconfig {
  const firsts = <T extends { name: string }>(lists: (T[] | undefined)[]) => {
    const seen = new Map<string, T>();
    for (const item of lists.flatMap((l) => l ?? [])) if (!seen.has(item.name)) seen.set(item.name, item);
    return [...seen.values()];
  };
  return {
    clusters: firsts(configs.map((c) => c.clusters)),
    users: firsts(configs.map((c) => c.users)),
    contexts: firsts(configs.map((c) => c.contexts)),
    "current-context": configs.map((c) => c["current-context"]).find(Boolean),
  };
}

const decoded = (data: string | undefined, file: string | undefined): Buffer | undefined =>
  data !== undefined ? Buffer.from(data, "base64") : file !== undefined ? readFileSync(file) : undefined;

/** The current context's target, or why the small client cannot serve it. */
function targetOf(config: Kubeconfig, path: string): KubeTarget {
  const current = config["current-context"];
  const context = config.contexts?.find((c) => c.name === current)?.context;
  if (!context) throw new Error(`kubeconfig ${path}: no context ${JSON.stringify(current ?? "")} (current-context)`);
  const cluster = config.clusters?.find((c) => c.name === context.cluster)?.cluster;
  if (!cluster?.server) throw new Error(`kubeconfig ${path}: context ${current} names no cluster with a server`);
  const user = config.users?.find((u) => u.name === context.user)?.user ?? {};
  const namespace = context.namespace ? { namespace: context.namespace } : {};
  const other = Object.keys(user).find((k) => !USER_FIELDS.has(k) && user[k] !== undefined && user[k] !== null);
  if (other) return { fullClient: `the user's ${other}`, ...namespace };
  if (cluster["proxy-url"]) return { fullClient: "the cluster's proxy-url", ...namespace };
  const ca = decoded(cluster["certificate-authority-data"], cluster["certificate-authority"]);
  const cert = decoded(user["client-certificate-data"], user["client-certificate"]);
  const key = decoded(user["client-key-data"], user["client-key"]);
  const token = user.token ? { value: user.token } : user.tokenFile ? { file: user.tokenFile } : undefined;
  return {
    server: cluster.server,
    insecure: cluster["insecure-skip-tls-verify"] === true,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(token ? { token } : {}),
    ...(cluster["tls-server-name"] ? { servername: cluster["tls-server-name"] } : {}),
    ...namespace,
  };
}

/**
 * Reads the kubeconfig (the path given, else KUBECONFIG, else ~/.kube/config) or, with none,
 * the pod's ServiceAccount. JSON is read as is; YAML loads the yaml package only then, so a
 * step in a pod (no kubeconfig) never parses it.
 */
export async function loadKubeTarget(path: string | undefined, env: NodeJS.ProcessEnv): Promise<KubeTarget> {
  const files = path ? [path] : kubeconfigFiles(env);
  if (files.length === 0) return inCluster(env);
  const configs: Kubeconfig[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (err) {
      // KUBECONFIG may name files that do not exist; kubectl skips them, one named by --kubeconfig fails.
      if (path || (err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      continue;
    }
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      doc = (await import("./yaml-text.js")).parseYaml(text);
    }
    configs.push(withAbsolutePaths((doc ?? {}) as Kubeconfig, file));
  }
  return targetOf(merge(configs), files.join(delimiter));
}
