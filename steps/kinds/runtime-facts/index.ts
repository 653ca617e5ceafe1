import type { V1ConfigMap } from "@kubernetes/client-node";
import * as z from "../../core/zod.js";
import { changedKeys } from "../../core/changes.js";
import { defineKind, seedingPatterns, type KindContext } from "../kind.js";
import { isNotFound } from "../../core/kube.js";
import { inputValue } from "../../core/spec.js";
import { managedMetadata, managedObject } from "../../core/metadata.js";

const settings = z.strictObject({
  configMap: managedObject,
  facts: z
    .record(z.string().check(z.regex(/^[-._a-zA-Z0-9]+$/, "must be a valid ConfigMap key")), inputValue)
    .check(z.refine((f) => Object.keys(f).length > 0, "list at least one fact")),
});
type Settings = z.infer<typeof settings>;

function desired(ctx: KindContext, s: Settings): Record<string, string> {
  return Object.fromEntries(Object.entries(s.facts).map(([k, v]) => [k, ctx.value(v)]));
}

/** The infrastructure is the authority: facts that differ are corrected; keys not listed are left alone. */
export const runtimeFacts = defineKind<Settings>({
  kind: "runtime-facts",
  authority: "runtime-fact",
  description: "Publishes infra-derived runtime facts (issuer URL, resource group, …) into a ConfigMap.",
  patterns: seedingPatterns,
  spec: settings,
  inputs: [{ path: ["facts", "*"], mustBe: "non-secret" }],
  dependencies: () => [],
  access: [{ path: ["configMap"], object: { group: "", resource: "configmaps" }, verbs: "write" }],

  async ensure(ctx, s) {
    const namespace = s.configMap.namespace ?? ctx.namespace;
    const { core } = ctx.kube();
    const want = desired(ctx, s);
    let current: V1ConfigMap | undefined;
    try {
      current = await core.readNamespacedConfigMap({ name: s.configMap.name, namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const meta = { unit: ctx.unit.metadata.name, target: s.configMap, namespace };
    const object = `ConfigMap ${namespace}/${s.configMap.name}`;
    if (!current) {
      await core.createNamespacedConfigMap({ namespace, body: { metadata: managedMetadata(meta), data: want } });
      ctx.record({ verb: "created", object, keys: Object.keys(want).sort() });
      return;
    }
    const data = current.data ?? {};
    const differing = changedKeys(data, want);
    if (!differing.length) return;
    await core.replaceNamespacedConfigMap({
      name: s.configMap.name,
      namespace,
      body: {
        ...current,
        metadata: managedMetadata({ ...meta, current: current.metadata }),
        data: { ...data, ...want },
      },
    });
    ctx.record({ verb: "updated", object, keys: differing });
  },

  async verify(ctx, s) {
    const namespace = s.configMap.namespace ?? ctx.namespace;
    const name = `ConfigMap ${namespace}/${s.configMap.name}`;
    let cm: V1ConfigMap;
    try {
      cm = await ctx.kube().core.readNamespacedConfigMap({ name: s.configMap.name, namespace });
    } catch (err) {
      if (isNotFound(err)) return [{ name, ok: false, detail: "does not exist" }];
      throw err;
    }
    return Object.entries(desired(ctx, s)).map(([k, v]) => {
      const got = cm.data?.[k];
      return { name: `${name} fact ${k}`, ok: got === v, detail: got === v ? v : `is ${got ?? "missing"}, want ${v}` };
    });
  },
});
