import { readFileSync } from "node:fs";
import path from "node:path";
import { startKubeServer } from "../harness/kube-server.js";
import { root } from "../support/helm.js";
import { ArgoCd, documentedApplication } from "./argo-cd.js";
import { Kube } from "./cluster.js";

const server = await startKubeServer();
try {
  const { execFileSync } = await import("node:child_process");
  execFileSync("kubectl", ["--kubeconfig", server.adminKubeconfig, "apply", "--server-side", ...["cronworkflows","workflows","workflowtemplates"].flatMap((k) => ["-f", `/root/go/pkg/mod/github.com/argoproj/argo-workflows/v3@v3.7.18/manifests/base/crds/minimal/argoproj.io_${k}.yaml`])]);
  const env = { kubeconfig: server.adminKubeconfig, auditLog: server.info.auditLog, helm: process.env.RESEED_HELM!, argo: process.env.RESEED_ARGO! };
  const kube = new Kube(env.kubeconfig);
  const cd = new ArgoCd(env, kube);
  await cd.start();
  const rev = cd.repo.commit("values", { "charts/reseed/e2e.yaml": readFileSync(path.join(root, "test/e2e/fresh-install.yaml"), "utf8") });
  const app = documentedApplication();
  app.spec.source.repoURL = cd.repo.url;
  app.spec.source.helm.valueFiles = ["examples/values-local.yaml", "e2e.yaml"];
  app.spec.destination.namespace = "reseed-argocd";
  await cd.create(app);
  for (let i = 0; i < 40; i++) {
    await new Promise((r) => setTimeout(r, 3000));
    const a = await cd.application("reseed");
    console.log(i, JSON.stringify({ sync: a.status?.sync, health: a.status?.health, op: a.status?.operationState?.phase, msg: a.status?.operationState?.message, cond: a.status?.conditions }).slice(0, 600));
    if (a.status?.operationState?.phase === "Running" && a.status?.resources?.some((r) => r.hook)) { console.log(JSON.stringify(a.status.resources, null, 0).slice(0, 3000)); break; }
  }
  console.log(rev, await cd.logTails(15));
  await cd.stop();
} finally {
  await server.stop();
}
