import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { KubeConfig, KubernetesObjectApi, PatchStrategy, type KubernetesObject } from "@kubernetes/client-node";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { connectKube } from "../harness/kube.js";
import { Admin } from "../harness/kube-admin.js";
import { examples, parseObjects, render, root, type Obj } from "../harness/helm.js";

// The rendered chart and the committed generated manifests, server-side dry-run applied to
// the real kube-apiserver with the full Argo CRD schemas: what Argo CD would send at sync.
const kube = connectKube(inject("kube"));
const admin = new Admin(kube.adminKubeconfig);
let objects: KubernetesObjectApi;

beforeAll(async () => {
  const kc = new KubeConfig();
  kc.loadFromFile(kube.adminKubeconfig);
  objects = KubernetesObjectApi.makeApiClient(kc);
  for (const ns of ["reseed", "coder", "platform", "coder-workspaces"]) await admin.namespace(ns);
});

async function dryRunApply(objs: Obj[]): Promise<string[]> {
  const failures: string[] = [];
  for (const o of objs) {
    const body = { ...o, metadata: { ...o.metadata, namespace: o.metadata.namespace ?? "reseed" } } as KubernetesObject;
    try {
      await objects.patch(body, undefined, "All", "reseed-test", true, PatchStrategy.ServerSideApply);
    } catch (err) {
      failures.push(`${o.kind} ${o.metadata.name}: ${(err as Error).message.split("\n").slice(0, 4).join(" ")}`);
    }
  }
  return failures;
}

describe("manifests on the real API server (server-side dry-run)", () => {
  it.each(Object.entries(examples))("the chart rendered with %s values is accepted", async (_env, file) => {
    const objs = render(file);
    expect(objs.map((o) => o.kind)).toContain("WorkflowTemplate");
    expect(await dryRunApply(objs)).toEqual([]);
  });

  it("the committed workflowtemplates/ and cronworkflows/ are accepted", async () => {
    const files = ["workflowtemplates", "cronworkflows"].flatMap((d) =>
      readdirSync(path.join(root, d))
        .filter((f) => f.endsWith(".yaml"))
        .map((f) => path.join(root, d, f)),
    );
    expect(files.length).toBeGreaterThan(1);
    const objs = files.flatMap((f) => parseObjects(readFileSync(f, "utf8")));
    expect(await dryRunApply(objs)).toEqual([]);
  });

  it("the API server rejects a CronWorkflow that breaks the Argo schema (the check has teeth)", async () => {
    const bad = render(examples.dev).find((o) => o.kind === "CronWorkflow")!;
    const failures = await dryRunApply([{ ...bad, spec: { ...(bad.spec as object), concurrencyPolicy: 7 } }]);
    expect(failures).toHaveLength(1);
  });
});
