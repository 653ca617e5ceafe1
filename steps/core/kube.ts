import type {
  EventsV1Event,
  KubeConfig,
  KubernetesObject,
  V1ConfigMap,
  V1DeleteOptions,
  V1NamespaceList,
  V1Secret,
  V1SecretList,
  V1ServiceAccountList,
} from "@kubernetes/client-node";
import { readFileSync } from "node:fs";
import http from "node:http";
import https from "node:https";
import { loadKubeTarget, type KubeTarget } from "./kube-config.js";

// A step makes a handful of Kubernetes requests, all of them below. It makes them with this
// small client over node:https rather than @kubernetes/client-node, whose index loads every
// API group and model (and undici) at import: about 200 ms and 40 MiB of a step's start, more
// than reseed's own code (docs/figures.md#step-cold-start-and-memory). The names and
// parameters are client-node's, so a kubeconfig only client-node can read (an exec or
// auth-provider plugin, a proxy) is served by it, loaded then and only then.

type Named = { name: string; namespace: string };
type Listing = { labelSelector?: string; fieldSelector?: string };

/** The Kubernetes calls steps make: client-node's CoreV1Api, KubernetesObjectApi and EventsV1Api, narrowed. */
export interface CoreApi {
  readNamespacedSecret(p: Named): Promise<V1Secret>;
  createNamespacedSecret(p: { namespace: string; body: V1Secret }): Promise<V1Secret>;
  replaceNamespacedSecret(p: Named & { body: V1Secret }): Promise<V1Secret>;
  deleteNamespacedSecret(p: Named & { body?: V1DeleteOptions }): Promise<unknown>;
  readNamespacedConfigMap(p: Named): Promise<V1ConfigMap>;
  createNamespacedConfigMap(p: { namespace: string; body: V1ConfigMap }): Promise<V1ConfigMap>;
  replaceNamespacedConfigMap(p: Named & { body: V1ConfigMap }): Promise<V1ConfigMap>;
  listNamespace(p: Listing): Promise<V1NamespaceList>;
  listSecretForAllNamespaces(p: Listing): Promise<V1SecretList>;
  listServiceAccountForAllNamespaces(p: Listing): Promise<V1ServiceAccountList>;
}
export interface ObjectApi {
  read<T extends KubernetesObject>(ref: {
    apiVersion: string;
    kind: string;
    metadata: { name: string; namespace?: string };
  }): Promise<T>;
}
export interface EventsApi {
  createNamespacedEvent(p: { namespace: string; body: EventsV1Event }): Promise<EventsV1Event>;
}

/** The Kubernetes clients a step uses, made once per process from its own credentials. */
export interface Kube {
  core: CoreApi;
  objects: ObjectApi;
  events: EventsApi;
  /** Namespace of the current context (in a pod: the pod's namespace). */
  contextNamespace(): Promise<string | undefined>;
}

/** An answer outside 2xx. Like client-node's ApiException: the status as `code`, the body kept apart from the message. */
class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly body: string,
  ) {
    super(`HTTP ${code}`);
    this.name = "KubeApiError";
  }
}

/** The API server's own limit for a request (its --request-timeout); undici, under client-node, waited 300 s. */
const REQUEST_TIMEOUT_MS = 60_000;

type Send = <T>(method: string, path: string, body?: unknown) => Promise<T>;
type Target = Exclude<KubeTarget, { fullClient: string }>;
type Clients = Omit<Kube, "contextNamespace"> & { namespace: string | undefined };

function transport(target: Target, onCredential: (credential: string) => void): Send {
  const base = new URL(target.server);
  const secure = base.protocol === "https:";
  // Keep-alive sockets are unref'd while idle: they never hold a finished step open.
  const agent = secure
    ? new https.Agent({
        keepAlive: true,
        ca: target.ca,
        cert: target.cert,
        key: target.key,
        rejectUnauthorized: !target.insecure,
        ...(target.servername ? { servername: target.servername } : {}),
      })
    : new http.Agent({ keepAlive: true });
  const prefix = base.pathname.replace(/\/$/, "");
  return <T>(method: string, path: string, body?: unknown) =>
    new Promise<T>((resolve, reject) => {
      const token = target.token
        ? "value" in target.token
          ? target.token.value
          : readFileSync(target.token.file, "utf8").trim()
        : undefined;
      // Registered before it is sent: an error that quotes the Authorization header is masked.
      if (token) onCredential(token);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = (secure ? https : http).request({
        hostname: base.hostname.replace(/^\[|\]$/g, ""),
        port: base.port,
        path: prefix + path,
        method,
        agent,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          accept: "application/json",
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(payload === undefined
            ? {}
            : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) }),
        },
      });
      req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      // The network's own words (ECONNREFUSED, a certificate not trusted, the server gone
      // mid-request) are the cause: describeError names them after this.
      req.on("error", (err) => reject(new Error("request to the Kubernetes API failed", { cause: err })));
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", (err) => reject(new Error("request to the Kubernetes API failed", { cause: err })));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (status < 200 || status > 299) return reject(new KubeApiError(status, text));
          try {
            resolve((text ? JSON.parse(text) : undefined) as T);
          } catch {
            // Never the body itself: the answer to a Secret read holds its data.
            reject(new Error(`the Kubernetes API answered HTTP ${status} with a body that is not JSON`));
          }
        });
      });
      req.end(payload);
    });
}

const segment = encodeURIComponent;
const query = (q: Listing) => {
  const s = new URLSearchParams(Object.entries(q).filter((e): e is [string, string] => e[1] !== undefined));
  return s.size ? `?${s}` : "";
};
const inNamespace = (namespace: string, plural: string, name?: string) =>
  `/api/v1/namespaces/${segment(namespace)}/${plural}${name === undefined ? "" : `/${segment(name)}`}`;

function smallClients(send: Send): Omit<Kube, "contextNamespace"> {
  // KubernetesObjectApi's way to a path: the group version's resource list names the kind's plural and scope.
  const discovered = new Map<string, Promise<{ resources: { name: string; kind: string; namespaced: boolean }[] }>>();
  return {
    core: {
      readNamespacedSecret: ({ name, namespace }) => send("GET", inNamespace(namespace, "secrets", name)),
      createNamespacedSecret: ({ namespace, body }) => send("POST", inNamespace(namespace, "secrets"), body),
      replaceNamespacedSecret: ({ name, namespace, body }) =>
        send("PUT", inNamespace(namespace, "secrets", name), body),
      deleteNamespacedSecret: ({ name, namespace, body }) =>
        send("DELETE", inNamespace(namespace, "secrets", name), body),
      readNamespacedConfigMap: ({ name, namespace }) => send("GET", inNamespace(namespace, "configmaps", name)),
      createNamespacedConfigMap: ({ namespace, body }) => send("POST", inNamespace(namespace, "configmaps"), body),
      replaceNamespacedConfigMap: ({ name, namespace, body }) =>
        send("PUT", inNamespace(namespace, "configmaps", name), body),
      listNamespace: (q) => send("GET", `/api/v1/namespaces${query(q)}`),
      listSecretForAllNamespaces: (q) => send("GET", `/api/v1/secrets${query(q)}`),
      listServiceAccountForAllNamespaces: (q) => send("GET", `/api/v1/serviceaccounts${query(q)}`),
    },
    objects: {
      async read({ apiVersion, kind, metadata }) {
        const group = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
        let list = discovered.get(apiVersion);
        if (!list) discovered.set(apiVersion, (list = send("GET", group)));
        const resource = (await list).resources.find((r) => r.kind === kind && !r.name.includes("/"));
        if (!resource) throw new Error(`the API server serves no kind ${kind} in ${apiVersion}`);
        const scope = resource.namespaced ? `/namespaces/${segment(metadata.namespace ?? "default")}` : "";
        return send("GET", `${group}${scope}/${resource.name}/${segment(metadata.name)}`);
      },
    },
    events: {
      createNamespacedEvent: ({ namespace, body }) =>
        send("POST", `/apis/events.k8s.io/v1/namespaces/${segment(namespace)}/events`, body),
    },
  };
}

/** client-node's own reading of a kubeconfig (the path, else its defaults); loads the whole client. */
export async function clientNodeConfig(kubeconfigPath?: string): Promise<KubeConfig> {
  const { KubeConfig } = await import("@kubernetes/client-node");
  const config = new KubeConfig();
  if (kubeconfigPath) config.loadFromFile(kubeconfigPath);
  else config.loadFromDefault();
  return config;
}

async function clientNodeClients(
  kubeconfigPath: string | undefined,
  onCredential: (credential: string) => void,
): Promise<Clients> {
  const { CoreV1Api, EventsV1Api, KubernetesObjectApi } = await import("@kubernetes/client-node");
  const config = await clientNodeConfig(kubeconfigPath);
  const user = config.getCurrentUser();
  if (user?.token) onCredential(user.token);
  return {
    core: config.makeApiClient(CoreV1Api),
    objects: KubernetesObjectApi.makeApiClient(config),
    events: config.makeApiClient(EventsV1Api),
    namespace: config.getContextObject(config.getCurrentContext())?.namespace,
  };
}

/** Each call waits for the clients (the kubeconfig read on first use), then makes itself on them. */
function deferred<T extends object>(api: () => Promise<T>): T {
  return new Proxy({} as T, {
    // Not a promise (`then`) and no symbols: the group is never awaited or inspected as a call.
    get: (_, method) =>
      typeof method !== "string" || method === "then"
        ? undefined
        : async (...args: unknown[]) =>
            ((await api()) as Record<string, (...a: unknown[]) => unknown>)[method]!(...args),
  });
}

/**
 * In a pod this is the pod's service account; locally the kubeconfig given, else KUBECONFIG or
 * ~/.kube/config. Nothing is read until the first call. `onCredential` receives every token
 * before it is sent, for the redactor.
 */
export function connectKube(
  kubeconfigPath?: string,
  onCredential: (credential: string) => void = () => {},
  env: NodeJS.ProcessEnv = process.env,
): Kube {
  let clients: Promise<Clients> | undefined;
  const open = async (): Promise<Clients> => {
    const target = await loadKubeTarget(kubeconfigPath, env);
    if ("fullClient" in target) return clientNodeClients(kubeconfigPath, onCredential);
    return { ...smallClients(transport(target, onCredential)), namespace: target.namespace };
  };
  const ready = () => (clients ??= open());
  return {
    core: deferred(async () => (await ready()).core),
    objects: deferred(async () => (await ready()).objects),
    events: deferred(async () => (await ready()).events),
    contextNamespace: async () => (await ready()).namespace,
  };
}

/** The HTTP status of a failed call: this client's KubeApiError, client-node's ApiException and alikes. */
export function httpStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

export const isNotFound = (err: unknown) => httpStatus(err) === 404;

/** A Secret's `data` as the strings it holds. */
export function decodeSecretData(data: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
}

/** Strings as a Secret's `data`. */
export function encodeSecretData(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v, "utf8").toString("base64")]));
}
