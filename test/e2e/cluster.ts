import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { AuditLog } from "../harness/audit.js";
import { type AdminClient, jsonClient, type KubeResponse } from "../harness/kube-http.js";

/**
 * The cluster under test, reached only through a kubeconfig (KUBECONFIG) and, for write
 * counting, the API server's audit log (RESEED_E2E_AUDIT_LOG): the same tests run against
 * the local node (`make e2e`) and a kind cluster (`make e2e-kind`).
 */
export interface E2eEnv {
  kubeconfig: string;
  auditLog: string;
  helm: string;
  argo: string;
  /** `<nodeCtl> restart-apiserver` and `<nodeCtl> kill-container NAMESPACE POD CONTAINER` (argo-faults.test.ts, argo-step-faults.test.ts). */
  nodeCtl: string;
}

export function e2eEnv(): E2eEnv {
  const need = (name: string, what: string, target: string): string => {
    const value = process.env[name];
    if (!value || !existsSync(value)) {
      throw new Error(
        `${name} must name ${what} (got ${JSON.stringify(value ?? null)}): run the e2e tests with \`${target}\``,
      );
    }
    return value;
  };
  return {
    kubeconfig: need("KUBECONFIG", "the kubeconfig of the cluster under test", "make e2e"),
    auditLog: need("RESEED_E2E_AUDIT_LOG", "the API server's audit log (JSON lines, Metadata level)", "make e2e"),
    helm: need("RESEED_HELM", "a helm binary", "make servers"),
    argo: need("RESEED_ARGO", "an argo CLI binary", "make servers"),
    nodeCtl: need(
      "RESEED_E2E_NODE_CTL",
      "a script that restarts the cluster's API server and kills a container (test/cluster/cluster.sh)",
      "make e2e",
    ),
  };
}

/** A JSON client with the kubeconfig's credentials; it also serves as the audit log's barrier client. */
export class Kube implements AdminClient {
  private readonly client: AdminClient;

  constructor(kubeconfig: string) {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const server = kc.getCurrentCluster()?.server;
    if (!server) throw new Error(`${kubeconfig} has no current cluster`);
    // A one-off agent per request (agent: false), so no idle socket outlives the tests.
    this.client = jsonClient(server, async (options) => {
      options.agent = false;
      await kc.applyToHTTPSOptions(options);
    });
  }

  request(method: string, path: string, body?: unknown, contentType?: string): Promise<KubeResponse> {
    return this.client.request(method, path, body, contentType);
  }

  json<T>(
    method: string,
    path: string,
    body?: unknown,
    options?: { allowed?: number[]; contentType?: string },
  ): Promise<T> {
    return this.client.json<T>(method, path, body, options);
  }

  get<T>(path: string): Promise<T> {
    return this.json<T>("GET", path);
  }

  /** Plain text (logs, metrics); undefined when the object is gone. */
  async text(path: string): Promise<string | undefined> {
    const res = await this.request("GET", path);
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status}: ${res.body.slice(0, 500)}`);
    return res.body;
  }

  audit(path: string): AuditLog {
    return new AuditLog(path, this);
  }
}

/** Runs a CLI (argo, helm, kubectl) against the cluster under test; throws with its output on failure. */
export function cli(env: E2eEnv, bin: string, args: string[], input?: string): string {
  const r = spawnSync(bin, args, {
    encoding: "utf8",
    input,
    env: { ...process.env, KUBECONFIG: env.kubeconfig },
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw new Error(`${bin} could not be run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${bin} ${args.join(" ")} exited with ${r.status}:\n${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** Polls until `check` returns a value (not undefined), or fails naming what it waited for. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
  intervalMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
