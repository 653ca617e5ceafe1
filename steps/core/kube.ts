import { ApiException, CoreV1Api, EventsV1Api, KubeConfig, KubernetesObjectApi } from "@kubernetes/client-node";

/** The Kubernetes clients a step uses, made once per process from its own credentials. */
export interface Kube {
  config: KubeConfig;
  core: CoreV1Api;
  objects: KubernetesObjectApi;
  events: EventsV1Api;
  /** Namespace of the current context (in a pod: the pod's namespace). */
  contextNamespace: string | undefined;
}

/** In a pod this is the pod's service account; locally KUBECONFIG or ~/.kube/config. */
export function connectKube(kubeconfigPath?: string): Kube {
  const config = new KubeConfig();
  if (kubeconfigPath) config.loadFromFile(kubeconfigPath);
  else config.loadFromDefault();
  const context = config.getContextObject(config.getCurrentContext());
  return {
    config,
    core: config.makeApiClient(CoreV1Api),
    objects: KubernetesObjectApi.makeApiClient(config),
    events: config.makeApiClient(EventsV1Api),
    contextNamespace: context?.namespace,
  };
}

export function httpStatus(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
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
