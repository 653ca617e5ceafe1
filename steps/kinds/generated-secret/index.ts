import type { V1Secret } from "@kubernetes/client-node";
import { z } from "zod";
import { defineKind, type Check } from "../../core/kind.js";
import { isNotFound } from "../../core/kube.js";
import { charsets, generateValue } from "./generate.js";
import { ROTATION_ANNOTATION, planSecret } from "./plan.js";
import { managedMetadata, managedObject } from "../metadata.js";
import { kubernetesSecretPermissions } from "../../stores/kubernetes-secret.js";

const settings = z.strictObject({
  secret: managedObject,
  keys: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[-._a-zA-Z0-9]+$/, "must be a valid Secret key"),
        length: z.number().int().min(8).max(256).default(32),
        charset: z.enum(Object.keys(charsets) as [keyof typeof charsets, ...(keyof typeof charsets)[]]).default("alphanumeric"),
      }),
    )
    .min(1)
    .refine((ks) => new Set(ks.map((k) => k.name)).size === ks.length, "key names must be unique"),
  rotationId: z
    .string()
    .min(1)
    .optional()
    .describe("Change it in Git to regenerate every listed key once; otherwise values are never changed."),
});
type Settings = z.infer<typeof settings>;

const decode = (data: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));

export const generatedSecret = defineKind<Settings>({
  kind: "generated-secret",
  authority: "cluster-managed",
  description: "A Kubernetes Secret whose keys are generated once and then kept; rotated only when rotationId changes.",
  patterns: ["reconciler", "hook"],
  spec: settings,
  inputs: () => [],
  dependencies: () => [],
  permissions: (s, ns) => kubernetesSecretPermissions(s.secret, ns),

  async ensure(ctx, s) {
    const namespace = s.secret.namespace ?? ctx.namespace;
    const { core } = ctx.kube();
    let current: V1Secret | undefined;
    try {
      current = await core.readNamespacedSecret({ name: s.secret.name, namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    const data = decode(current?.data);
    for (const v of Object.values(data)) ctx.redactor.register(v);

    const plan = planSecret(current && { data, annotations: current.metadata?.annotations ?? {} }, s.keys, s.rotationId);
    if (!plan.generate.length && !plan.recordRotationId) return { action: "unchanged", changes: [] };

    for (const key of s.keys.filter((k) => plan.generate.includes(k.name))) {
      const value = generateValue(key.length, key.charset);
      ctx.redactor.register(value);
      data[key.name] = value;
    }
    const extraAnnotations: Record<string, string> = s.rotationId ? { [ROTATION_ANNOTATION]: s.rotationId } : {};
    const meta = { unit: ctx.unit.metadata.name, target: s.secret, namespace, extraAnnotations };
    const encoded = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, "utf8").toString("base64")]));
    if (!current) {
      await core.createNamespacedSecret({
        namespace,
        body: { metadata: managedMetadata(meta), type: "Opaque", data: encoded },
      });
      return { action: "created", changes: plan.changes };
    }
    // replace carries the resourceVersion we read: a concurrent writer makes this fail
    // instead of one generated value silently overwriting another.
    await core.replaceNamespacedSecret({
      name: s.secret.name,
      namespace,
      body: { ...current, metadata: managedMetadata({ ...meta, current: current.metadata }), data: encoded },
    });
    return { action: "updated", changes: plan.changes };
  },

  async verify(ctx, s) {
    const namespace = s.secret.namespace ?? ctx.namespace;
    let secret: V1Secret;
    try {
      secret = await ctx.kube().core.readNamespacedSecret({ name: s.secret.name, namespace });
    } catch (err) {
      if (isNotFound(err)) return [{ name: `Secret ${namespace}/${s.secret.name}`, ok: false, detail: "does not exist" }];
      throw err;
    }
    const data = decode(secret.data);
    for (const v of Object.values(data)) ctx.redactor.register(v);
    const checks: Check[] = s.keys.map((k) => {
      const v = data[k.name];
      return {
        name: `Secret ${namespace}/${s.secret.name} key ${k.name}`,
        ok: v !== undefined && v !== "",
        detail: v === undefined ? "is missing" : v === "" ? "is empty (set a new rotationId to regenerate it)" : "present",
      };
    });
    if (s.rotationId) {
      const current = secret.metadata?.annotations?.[ROTATION_ANNOTATION];
      checks.push({
        name: `Secret ${namespace}/${s.secret.name} rotationId`,
        ok: current === s.rotationId,
        detail: current === s.rotationId ? s.rotationId : `is ${current ?? "unset"}, want ${s.rotationId}`,
      });
    }
    return checks;
  },
});
