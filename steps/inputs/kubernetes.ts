import { describeError } from "../core/errors.js";
import { didYouMean } from "../core/suggest.js";
import { decodeSecretData, httpStatus, isNotFound } from "../core/kube.js";
import type { InputRef } from "../core/spec.js";
import type { InputSource, Resolution, ResolveEnv } from "./source.js";

type SecretRef = Extract<InputRef, { secretKeyRef: unknown }>;
type ConfigMapRef = Extract<InputRef, { configMapKeyRef: unknown }>;

async function readKey(
  kind: "Secret" | "ConfigMap",
  read: () => Promise<Record<string, string> | undefined>,
  key: string,
): Promise<Resolution> {
  let data: Record<string, string> | undefined;
  try {
    data = await read();
  } catch (err) {
    if (isNotFound(err)) return { absent: `cannot be read: the ${kind} does not exist` };
    if (httpStatus(err) === 403)
      return { absent: `cannot be read: the unit's service account may not get this ${kind}`, forbidden: true };
    return { absent: `cannot be read: ${describeError(err)}` };
  }
  const value = data?.[key];
  return value === undefined
    ? { absent: `is not in the ${kind}${didYouMean(key, Object.keys(data ?? {}))}` }
    : { value };
}

export const secretKeySource: InputSource<SecretRef> = {
  key: "secretKeyRef",
  resolve: ({ secretKeyRef: ref }, env: ResolveEnv) =>
    readKey(
      "Secret",
      async () => {
        const s = await env
          .kube()
          .core.readNamespacedSecret({ name: ref.name, namespace: ref.namespace ?? env.namespace });
        return decodeSecretData(s.data);
      },
      ref.key,
    ),
};

export const configMapKeySource: InputSource<ConfigMapRef> = {
  key: "configMapKeyRef",
  resolve: ({ configMapKeyRef: ref }, env: ResolveEnv) =>
    readKey(
      "ConfigMap",
      async () =>
        (await env.kube().core.readNamespacedConfigMap({ name: ref.name, namespace: ref.namespace ?? env.namespace }))
          .data,
      ref.key,
    ),
};
