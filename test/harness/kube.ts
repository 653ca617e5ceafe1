import { mkdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AuditLog, type AuditFilter, type AuditRequest, type AuditWrite } from "./audit.js";
import { installCrds } from "./crds.js";
import { adminClient, type AdminClient } from "./kube-http.js";

export type { AuditFilter, AuditRequest, AuditWrite } from "./audit.js";
export { ADMIN_USER } from "./pki.js";

/** What a running test API server is, as plain data: global setup hands it to test files. */
export interface KubeInfo {
  url: string;
  caFile: string;
  adminKubeconfig: string;
  adminCertFile: string;
  adminKeyFile: string;
  auditLog: string;
  /** Where kubeconfigFor writes its files (inside the server's temp dir). */
  kubeconfigDir: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    kube: KubeInfo;
  }
}

/** Access to a test API server: admin credentials, per-service-account kubeconfigs, the audit log. */
export interface KubeAccess {
  url: string;
  caFile: string;
  adminKubeconfig: string;
  /** Creates the namespace and service account if missing, gets a token, returns a kubeconfig path. */
  kubeconfigFor(namespace: string, serviceAccount: string): Promise<string>;
  /** A point in the audit log: requests that completed before this call are before it. */
  auditMark(): Promise<number>;
  /** Writes (create/update/patch/delete/deletecollection) that completed after the mark. */
  writesSince(mark: number, filter?: AuditFilter): Promise<AuditWrite[]>;
  /** Every request, reads included, that completed after the mark. */
  requestsSince(mark: number, filter?: AuditFilter): Promise<AuditRequest[]>;
  /** Applies the full Argo Workflows CRDs from RESEED_ARGO_CRDS and waits until they are Established. */
  installArgoCrds(): Promise<void>;
}

const CLUSTER = "reseed-test";
const TOKEN_SECONDS = 24 * 60 * 60;

/** Works from any process on the machine: the global setup's or a test worker's. */
export function connectKube(info: KubeInfo): KubeAccess {
  const admin = adminClient(info);
  const audit = new AuditLog(info.auditLog, admin);
  return {
    url: info.url,
    caFile: info.caFile,
    adminKubeconfig: info.adminKubeconfig,
    kubeconfigFor: (namespace, serviceAccount) => kubeconfigFor(info, admin, namespace, serviceAccount),
    auditMark: () => audit.mark(),
    writesSince: (mark, filter) => audit.writesSince(mark, filter),
    requestsSince: (mark, filter) => audit.requestsSince(mark, filter),
    installArgoCrds: () => installCrds(admin, argoCrdsDir()),
  };
}

/** A kubeconfig for the admin (group system:masters) with client cert files. */
export function adminKubeconfigText(url: string, caFile: string, certFile: string, keyFile: string): string {
  return kubeconfig(url, caFile, "admin", { "client-certificate": certFile, "client-key": keyFile }, "default");
}

/**
 * JSON, which kubectl and every YAML reader read too: a step given it parses no YAML, as in a
 * pod, where it reads its ServiceAccount's files (make bench measures the steps so).
 */
function kubeconfig(
  url: string,
  caFile: string,
  user: string,
  credentials: Record<string, string>,
  namespace: string,
): string {
  return JSON.stringify(
    {
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: CLUSTER, cluster: { server: url, "certificate-authority": caFile } }],
      users: [{ name: user, user: credentials }],
      contexts: [{ name: user, context: { cluster: CLUSTER, user, namespace } }],
      "current-context": user,
    },
    null,
    2,
  );
}

/**
 * A token of ServiceAccount `name` in `namespace`, creating both if missing. One function for
 * the per-namespace kubeconfigs below and the tokens authorities.ts projects or hands to
 * OpenBao as its reviewer: all of them are the same TokenRequest, `audiences` aside.
 */
export async function serviceAccountToken(
  admin: AdminClient,
  namespace: string,
  name: string,
  audiences?: string[],
): Promise<string> {
  await admin.json(
    "POST",
    "/api/v1/namespaces",
    { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } },
    { allowed: [409] },
  );
  await admin.json(
    "POST",
    `/api/v1/namespaces/${namespace}/serviceaccounts`,
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name } },
    { allowed: [409] },
  );
  const res = await admin.json<{ status: { token: string } }>(
    "POST",
    `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
    {
      apiVersion: "authentication.k8s.io/v1",
      kind: "TokenRequest",
      spec: { expirationSeconds: TOKEN_SECONDS, ...(audiences ? { audiences } : {}) },
    },
  );
  return res.status.token;
}

async function kubeconfigFor(
  info: KubeInfo,
  admin: AdminClient,
  namespace: string,
  serviceAccount: string,
): Promise<string> {
  const token = await serviceAccountToken(admin, namespace, serviceAccount);
  await mkdir(info.kubeconfigDir, { recursive: true });
  const path = join(info.kubeconfigDir, `${namespace}.${serviceAccount}.yaml`);
  // Write then rename: test files in other workers may read the same path concurrently.
  const partial = `${path}.${process.pid}.tmp`;
  await writeFile(partial, kubeconfig(info.url, info.caFile, serviceAccount, { token }, namespace), {
    mode: 0o600,
  });
  await rename(partial, path);
  return path;
}

function argoCrdsDir(): string {
  const dir = process.env.RESEED_ARGO_CRDS;
  if (!dir) {
    throw new Error(
      "RESEED_ARGO_CRDS is not set: it names the directory of the full Argo Workflows CRDs. " +
        "Run the tests through make (it sets it), or run `make servers` and export RESEED_ARGO_CRDS=$HOME/.cache/reseed/argo-<version>/crds",
    );
  }
  return dir;
}
