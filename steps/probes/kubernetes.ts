import type { KubernetesObject } from "@kubernetes/client-node";
import { describeError } from "../core/errors.js";
import { isNotFound, type Kube } from "../core/kube.js";
import type { Dependency } from "../core/spec.js";
import type { Probe, ProbeEnv } from "./probe.js";

type KubernetesDependency = Extract<Dependency, { kubernetes: unknown }>["kubernetes"];

interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/** Reads an object and checks one status condition; shared by wait-deps and operator-ready. */
export async function readCondition(
  kube: Kube,
  ref: { apiVersion: string; kind: string; name: string; namespace: string },
  condition: string | undefined,
): Promise<{ ok: boolean; detail: string }> {
  let obj: KubernetesObject & { status?: { conditions?: Condition[] } };
  try {
    obj = await kube.objects.read({
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, namespace: ref.namespace },
    });
  } catch (err) {
    return { ok: false, detail: isNotFound(err) ? "does not exist" : describeError(err) };
  }
  if (!condition) return { ok: true, detail: "exists" };
  const c = obj.status?.conditions?.find((x) => x.type === condition);
  if (!c) return { ok: false, detail: `has no ${condition} condition yet` };
  const why = [c.reason, c.message].filter(Boolean).join(": ");
  return { ok: c.status === "True", detail: `${condition}=${c.status ?? "Unknown"}${why ? ` (${why})` : ""}` };
}

export function describeObject(ref: { kind: string; name: string; namespace: string }): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

export function kubernetesProbe({ kubernetes: dep }: { kubernetes: KubernetesDependency }, env: ProbeEnv): Probe {
  const ref = { ...dep, namespace: dep.namespace ?? env.namespace };
  return {
    name: `kubernetes ${describeObject(ref)}${dep.condition ? ` ${dep.condition}` : ""}`,
    async check() {
      const { ok, detail } = await readCondition(env.kube(), ref, dep.condition);
      if (!ok) throw new Error(detail);
    },
  };
}
