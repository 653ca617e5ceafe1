import { constants } from "node:fs";
import { access, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { adminClient } from "./kube-http.js";
import { adminKubeconfigText, connectKube, type KubeAccess, type KubeInfo } from "./kube.js";
import { makePki, reuseOrMakePki } from "./pki.js";
import { freePorts, ServerProcess, startWatchdog } from "./processes.js";

export interface KubeServer extends KubeAccess {
  /** Plain data describing the server, for connectKube in other processes. */
  info: KubeInfo;
  /** Stops both processes and removes the temp dir. */
  stop(): Promise<void>;
  /** Stops the kube-apiserver process only (etcd keeps the data), for fault tests. */
  stopApiServer(): Promise<void>;
  /** Starts the kube-apiserver again with the same flags and waits until it is ready. */
  startApiServer(): Promise<void>;
}

export interface KubeServerOptions {
  /** Directory holding etcd and kube-apiserver; defaults to $KUBEBUILDER_ASSETS. */
  assetsDir?: string;
  readyTimeoutMs?: number;
  /**
   * Keep etcd data, PKI and logs here across runs instead of a temp dir removed at stop
   * (`make dev`: a second run sees what the first one seeded).
   */
  stateDir?: string;
}

// Metadata for every request, nothing at RequestReceived: one line per request, so
// counts taken from the log are exact.
const AUDIT_POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
`;

const SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local";

/** Starts etcd and a kube-apiserver with real authentication, RBAC and an audit log. */
export async function startKubeServer(options: KubeServerOptions = {}): Promise<KubeServer> {
  const assets = await findAssets(options.assetsDir ?? process.env.KUBEBUILDER_ASSETS);
  const dir = options.stateDir ?? (await mkdtemp(join(tmpdir(), "reseed-kube-")));
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const started: ServerProcess[] = [];
  let watchdog: { disarm(): void } | undefined;
  // A restarted kube-apiserver is a new process: it gets a watchdog of its own.
  const restartWatchdogs: Array<{ disarm(): void }> = [];
  const stop = async () => {
    watchdog?.disarm();
    for (const w of restartWatchdogs) w.disarm();
    for (const server of [...started].reverse()) await server.stop();
    if (!options.stateDir) await rm(dir, { recursive: true, force: true });
  };

  try {
    const pki = options.stateDir ? await reuseOrMakePki(dir) : await makePki(dir);
    const [etcdClientPort, etcdPeerPort, apiPort] = (await freePorts(3)) as [number, number, number];
    const url = `https://127.0.0.1:${apiPort}`;
    const auditPolicy = join(dir, "audit-policy.yaml");
    const auditLog = join(dir, "audit.log");
    const adminKubeconfig = join(dir, "admin.kubeconfig");
    await writeFile(auditPolicy, AUDIT_POLICY);
    await writeFile(adminKubeconfig, adminKubeconfigText(url, pki.caCert, pki.adminCert, pki.adminKey), {
      mode: 0o600,
    });
    await mkdir(join(dir, "etcd"), { recursive: true, mode: 0o700 });

    const etcdUrl = `http://127.0.0.1:${etcdClientPort}`;
    const peerUrl = `http://127.0.0.1:${etcdPeerPort}`;
    started.push(
      new ServerProcess(
        "etcd",
        assets.etcd,
        [
          "--name=reseed",
          `--data-dir=${join(dir, "etcd")}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=${peerUrl}`,
          `--initial-advertise-peer-urls=${peerUrl}`,
          `--initial-cluster=reseed=${peerUrl}`,
          // The data is thrown away after the run; fsync would only slow every write.
          "--unsafe-no-fsync",
          "--log-level=warn",
        ],
        join(dir, "etcd.log"),
      ),
    );

    const apiServerArgs = [
      `--etcd-servers=${etcdUrl}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      "--authorization-mode=RBAC",
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-account-key-file=${pki.serviceAccountPublicKey}`,
      `--service-account-signing-key-file=${pki.serviceAccountPrivateKey}`,
      "--service-cluster-ip-range=10.0.0.0/24",
      `--audit-policy-file=${auditPolicy}`,
      `--audit-log-path=${auditLog}`,
      "--audit-log-format=json",
      // Blocking: an event is written before the request finishes (batch would lag).
      "--audit-log-mode=blocking",
      "--profiling=false",
    ];
    const apiServer = () =>
      new ServerProcess("kube-apiserver", assets.kubeApiserver, apiServerArgs, join(dir, "kube-apiserver.log"));
    started.push(apiServer());

    // A state dir outlives the processes by design; only a temp dir goes with them.
    watchdog = startWatchdog(
      started.flatMap((server) => server.pid ?? []),
      options.stateDir ? undefined : dir,
    );

    const info: KubeInfo = {
      url,
      caFile: pki.caCert,
      adminKubeconfig,
      adminCertFile: pki.adminCert,
      adminKeyFile: pki.adminKey,
      auditLog,
      kubeconfigDir: join(dir, "kubeconfigs"),
    };
    await waitReady(info, started, options.readyTimeoutMs ?? 60_000);
    const apiServerIndex = started.length - 1;
    return {
      ...connectKube(info),
      info,
      stop,
      stopApiServer: () => started[apiServerIndex]!.stop(),
      async startApiServer() {
        const next = apiServer();
        started[apiServerIndex] = next;
        restartWatchdogs.push(startWatchdog(next.pid ? [next.pid] : []));
        await waitReady(info, started, options.readyTimeoutMs ?? 60_000);
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function findAssets(dir: string | undefined): Promise<{ etcd: string; kubeApiserver: string }> {
  if (!dir) {
    throw new Error(
      "KUBEBUILDER_ASSETS is not set: it names the directory holding the etcd and kube-apiserver binaries. " +
        "Run `make servers` and run the tests through make (it sets it), or export KUBEBUILDER_ASSETS=$HOME/.cache/reseed/bin",
    );
  }
  const assets = { etcd: join(dir, "etcd"), kubeApiserver: join(dir, "kube-apiserver") };
  const missing: string[] = [];
  for (const binary of Object.values(assets)) {
    await access(binary, constants.X_OK).catch(() => missing.push(binary));
  }
  if (missing.length > 0) {
    throw new Error(
      `no executable ${missing.join(" or ")} (KUBEBUILDER_ASSETS=${dir}): build them with \`make servers\``,
    );
  }
  return assets;
}

async function waitReady(info: KubeInfo, processes: ServerProcess[], timeoutMs: number): Promise<void> {
  const admin = adminClient(info);
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  for (;;) {
    for (const server of processes) {
      const reason = server.exitReason;
      if (reason !== undefined) {
        throw new Error(
          `${server.name} ${reason} while the test API server was starting; ` +
            `last lines of ${server.logFile}:\n${await server.logTail()}`,
        );
      }
    }
    const res = await admin.request("GET", "/readyz").catch((err: Error) => ({ status: 0, body: err.message }));
    if (res.status === 200) return;
    last = `${res.status} ${res.body}`;
    if (Date.now() > deadline) {
      const apiserver = processes.find((server) => server.name === "kube-apiserver");
      throw new Error(
        `kube-apiserver at ${info.url} was not ready within ${timeoutMs} ms (last /readyz: ${last}); ` +
          `last lines of its log:\n${await apiserver?.logTail()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
