// What a test file of the secret authorities starts from: the API server and OpenBao the
// global setup started, admin clients of both, OpenBao's audit log, and a folder of the
// file's own beside the kubeconfigs, for its token files and CA bundles.
import { join } from "node:path";
import { inject } from "vitest";
import { connectKube } from "./kube.js";
import { Admin } from "./kube-admin.js";
import { OpenBaoAdmin, OpenBaoAudit } from "./openbao.js";

export function authorityServers(folder: string) {
  const kubeInfo = inject("kube");
  const baoInfo = inject("openbao");
  const kube = connectKube(kubeInfo);
  return {
    kubeInfo,
    baoInfo,
    kube,
    admin: new Admin(kube.adminKubeconfig),
    bao: new OpenBaoAdmin(baoInfo),
    audit: new OpenBaoAudit(baoInfo.auditLog),
    files: join(kubeInfo.kubeconfigDir, folder),
  };
}
