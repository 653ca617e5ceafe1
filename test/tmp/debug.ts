import { startKubeServer } from "../harness/kube-server.js";
import { Admin } from "../support/admin.js";
import { runDag } from "../support/steps.js";
const server = await startKubeServer();
try {
  const admin = new Admin(server.adminKubeconfig);
  await admin.namespace("d");
  const unit = { apiVersion: "reseed.dev/v1alpha1", kind: "SeedingUnit", metadata: { name: "x" }, spec: { pattern: "reconciler", ensure: { kind: "generated-secret", with: { secret: { name: "s" }, keys: [{ name: "k" }] } } } };
  const runs = await runDag(unit, { kubeconfig: server.adminKubeconfig, namespace: "d", workflow: { name: "wf", cronWorkflow: "cw" } });
  for (const r of runs) console.log(r.phase, r.code, r.stdout.split("\n").filter(l => l.includes("warn")).join("\n"));
  const ev = await admin.events.listNamespacedEvent({ namespace: "d" });
  console.log(ev.items.length, JSON.stringify(ev.items[0]));
} finally { await server.stop(); }
