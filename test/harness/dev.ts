// make dev: a local control plane with the example units seeded into it, and the evidence.
// The API server's state lives in $CACHE/dev, so a second run finds what the first seeded
// and every unit reports `unchanged`. Each unit runs as the ServiceAccount the chart gives it,
// with the chart's Role: the local loop proves the chart's RBAC is enough.
// RESEED_DEV_RESULT=<file> also writes the evidence there as JSON, for .ci/run to check.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import {
  ApiextensionsV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
} from "@kubernetes/client-node";
import { ExitCode } from "../../steps/core/errors.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";
import { loadFilesOrThrow } from "../../steps/cli/load.js";
import { evidenceTable, runUnits, type UnitEvidence } from "../../steps/cli/run.js";
import { render } from "./helm.js";
import { startKubeServer } from "./kube-server.js";

const registry = await loadKinds(kinds);

const NAMESPACE = "reseed";
const valuesFile = process.argv[2] ?? "charts/reseed/examples/values-local.yaml";
const stateDir = path.join(process.env.CACHE ?? path.join(process.env.HOME ?? "/root", ".cache/reseed"), "dev");

const server = await startKubeServer({ stateDir });
let code: number = ExitCode.ok;
try {
  console.log(`local control plane: kube-apiserver ${server.url} (state in ${stateDir})`);
  const kc = new KubeConfig();
  kc.loadFromFile(server.adminKubeconfig);
  const objects = KubernetesObjectApi.makeApiClient(kc);
  // Installed once per state dir: re-applying the large Argo CRDs on every run is slow, and
  // `make dev-reset` starts over when the Argo version changes.
  const hasArgo = await kc
    .makeApiClient(ApiextensionsV1Api)
    .readCustomResourceDefinition({ name: "workflowtemplates.argoproj.io" })
    .then(
      () => true,
      () => false,
    );
  if (!hasArgo) await server.installArgoCrds();
  await objects
    .create({ apiVersion: "v1", kind: "Namespace", metadata: { name: NAMESPACE } })
    .catch((err: { code?: number }) => {
      if (err.code !== 409) throw err;
    });
  const manifests = render(valuesFile);
  for (const o of manifests) {
    const body = {
      ...o,
      metadata: { ...o.metadata, namespace: o.metadata.namespace ?? NAMESPACE },
    } as KubernetesObject;
    await objects.patch(body, undefined, undefined, "reseed-dev", true, PatchStrategy.ServerSideApply);
  }
  console.log(
    `applied the chart for ${valuesFile}: ${manifests.map((o) => `${o.kind}/${o.metadata.name}`).join(", ")}\n`,
  );

  const units = await loadFilesOrThrow([valuesFile], registry, NAMESPACE);
  const evidence: UnitEvidence[] = [];
  for (const loaded of units) {
    const kubeconfig = await server.kubeconfigFor(NAMESPACE, `reseed-${loaded.unit.metadata.name}`);
    evidence.push(...(await runUnits([loaded], { kubeconfig, env: { ...process.env, RESEED_NAMESPACE: NAMESPACE } })));
  }
  console.log(`\nEvidence (${valuesFile}, namespace ${NAMESPACE}):\n`);
  console.log(evidenceTable(evidence));
  console.log(
    `\nkubectl --kubeconfig ${server.adminKubeconfig} -n ${NAMESPACE} get secrets,configmaps -l app.kubernetes.io/managed-by=reseed`,
  );
  console.log("only while make dev runs; run it again and every unit reports unchanged.");
  if (process.env.RESEED_DEV_RESULT) await writeFile(process.env.RESEED_DEV_RESULT, JSON.stringify(evidence, null, 2));
  code = evidence.find((e) => e.exitCode !== ExitCode.ok)?.exitCode ?? ExitCode.ok;
} finally {
  await server.stop();
}
process.exit(code);
