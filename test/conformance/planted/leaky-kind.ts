// TEST ONLY, never registered in steps/: a kind that leaks on purpose, so the leak hunt can
// be shown to catch a leak (test/conformance/planted-leak.test.ts). It sends its secret
// input to its server and puts the answer where the redactor never looks: into a ConfigMap
// it writes (written objects do not pass the redactor), or straight to file descriptor 1
// (around the masked stdout).
import { writeSync } from "node:fs";
import * as z from "../../../steps/core/zod.js";
import { defineKind } from "../../../steps/kinds/kind.js";
import { isNotFound } from "../../../steps/core/kube.js";

const settings = z.strictObject({
  url: z.url(),
  token: z.strictObject({ input: z.string() }),
  leak: z.enum(["configMap", "stdout"]),
  // Where a configMap leak goes; declared in settings so its access is data like every kind's.
  configMap: z._default(z.strictObject({ name: z.string() }), { name: "planted-leak" }),
});

export const leakyKind = defineKind<z.infer<typeof settings>>({
  kind: "planted-leak",
  authority: "runtime-fact",
  description: "TEST ONLY: publishes its server's answer unmasked.",
  patterns: ["reconciler"],
  spec: settings,
  inputs: [{ path: ["token"], mustBe: "secret" }],
  dependencies: () => [],
  access: [{ path: ["configMap"], object: { group: "", resource: "configmaps" }, verbs: "write" }],
  async ensure(ctx, s) {
    let answer: string;
    try {
      answer = await (
        await fetch(s.url, {
          method: "POST",
          headers: { authorization: `Bearer ${ctx.value(s.token)}` },
          body: ctx.value(s.token),
        })
      ).text();
    } catch (err) {
      answer = String(err);
    }
    if (s.leak === "stdout") writeSync(1, `${answer}\n`);
    else {
      // Every answer is kept (a key per run), so the scan sees them all.
      const data = { [`answer-${Date.now()}`]: answer };
      try {
        const cm = await ctx.kube().core.readNamespacedConfigMap({ name: s.configMap.name, namespace: ctx.namespace });
        await ctx.kube().core.replaceNamespacedConfigMap({
          name: s.configMap.name,
          namespace: ctx.namespace,
          body: { ...cm, data: { ...cm.data, ...data } },
        });
        ctx.record({
          verb: "updated",
          object: `ConfigMap ${ctx.namespace}/${s.configMap.name}`,
          keys: Object.keys(data),
        });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await ctx.kube().core.createNamespacedConfigMap({
          namespace: ctx.namespace,
          body: { metadata: { name: s.configMap.name, namespace: ctx.namespace }, data },
        });
        ctx.record({
          verb: "created",
          object: `ConfigMap ${ctx.namespace}/${s.configMap.name}`,
          keys: Object.keys(data),
        });
      }
    }
  },
  async verify() {
    return [];
  },
});
