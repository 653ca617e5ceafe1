import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { parse } from "yaml";
import { freePorts, ServerProcess, startWatchdog } from "../harness/processes.js";
import { root } from "../harness/helm.js";
import { cli, type E2eEnv, type Kube, waitFor } from "./cluster.js";

/**
 * A real Argo CD beside the cluster under test: Redis, the repo server and the application
 * controller as processes on this machine, reaching the API server through the kubeconfig
 * (ARGOCD_FAKE_IN_CLUSTER), as upstream's Procfile runs them for its own e2e suite. No API
 * server or UI: the tests create Applications and read their status through Kubernetes,
 * which is what `argocd app get` shows.
 */
export const ARGOCD_NS = "argocd";
export const APPLICATION_FILE = path.join(root, "docs/argo-cd/application.yaml");
const APPLICATIONS = `/apis/argoproj.io/v1alpha1/namespaces/${ARGOCD_NS}/applications`;

export interface Application {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; annotations?: Record<string, string>; creationTimestamp?: string };
  spec: {
    project: string;
    source: {
      repoURL: string;
      targetRevision: string;
      path: string;
      helm: { releaseName?: string; valueFiles: string[] };
    };
    destination: { server: string; namespace: string };
    syncPolicy?: Record<string, unknown>;
  };
  status?: {
    reconciledAt?: string;
    sync?: { status?: string; revision?: string };
    health?: { status?: string; message?: string };
    operationState?: { phase?: string; message?: string; syncResult?: { revision?: string }; finishedAt?: string };
    history?: { id: number; revision: string; deployedAt: string }[];
    resources?: {
      kind: string;
      name: string;
      namespace?: string;
      status?: string;
      health?: { status?: string };
      hook?: boolean;
    }[];
    conditions?: { type: string; message: string }[];
  };
}

function need(name: string, what: string): string {
  const value = process.env[name];
  if (!value || !existsSync(value)) {
    throw new Error(
      `${name} must name ${what} (got ${JSON.stringify(value ?? null)}): run the Argo CD test with \`make e2e\``,
    );
  }
  return value;
}

function which(command: string): string {
  const r = spawnSync("sh", ["-c", `command -v ${command}`], { encoding: "utf8" });
  if (r.status !== 0)
    throw new Error(
      `${command} is not on PATH: Argo CD needs it (\`make cluster-deps\` installs redis-server; git comes with the machine)`,
    );
  return r.stdout.trim();
}

/** The Application of docs/argo-cd/application.yaml, as users copy it. */
export function documentedApplication(): Application {
  return parse(readFileSync(APPLICATION_FILE, "utf8")) as Application;
}

/** A Git repository (file://) holding the chart, as a user's repository holds it. */
export class GitRepo {
  readonly dir: string;

  constructor(parent: string) {
    this.dir = path.join(parent, "repo");
    mkdirSync(this.dir);
    this.git("init", "--quiet", "--initial-branch", "main");
    cpSync(path.join(root, "charts/reseed"), path.join(this.dir, "charts/reseed"), { recursive: true });
  }

  get url(): string {
    return `file://${this.dir}`;
  }

  git(...args: string[]): string {
    const r = spawnSync("git", ["-c", "user.name=e2e", "-c", "user.email=e2e@reseed.dev", ...args], {
      cwd: this.dir,
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`git ${args.join(" ")} failed: ${r.stderr}`);
    return r.stdout.trim();
  }

  /** Writes `files` (paths in the repository) and commits them; returns the commit. */
  commit(message: string, files: Record<string, string>): string {
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(this.dir, file)), { recursive: true });
      writeFileSync(path.join(this.dir, file), text);
    }
    this.git("add", "--all");
    this.git("commit", "--quiet", "--message", message);
    return this.git("rev-parse", "HEAD");
  }
}

export class ArgoCd {
  private readonly processes: ServerProcess[] = [];
  private watchdog: { disarm(): void } | undefined;
  readonly dir: string;
  readonly repo: GitRepo;

  constructor(
    private readonly env: E2eEnv,
    private readonly kube: Kube,
  ) {
    this.dir = mkdtempSync(path.join(tmpdir(), "reseed-argocd-"));
    this.repo = new GitRepo(this.dir);
  }

  /** CRDs, the argocd namespace and its settings, then Redis, the repo server and the controller. */
  async start(): Promise<void> {
    const binary = need("RESEED_ARGOCD", "the Argo CD binary (test/servers/argocd)");
    const src = need("RESEED_ARGOCD_SRC", "the source of the Argo CD module the binary was built from");
    const redis = which("redis-server");
    which("git");

    for (const crd of ["application-crd.yaml", "appproject-crd.yaml"]) {
      cli(this.env, "kubectl", [
        "apply",
        "--server-side",
        "--force-conflicts",
        "--filename",
        path.join(src, "manifests/crds", crd),
      ]);
    }
    // Polled here, not with `kubectl wait`: a CRD the apiserver has not given a status yet
    // makes `kubectl wait --for=condition` fail at once ("<nil> is of the type <nil>").
    for (const crd of ["applications.argoproj.io", "appprojects.argoproj.io"]) {
      await waitFor(`CRD ${crd} to be Established`, 60_000, async () => {
        const res = await this.kube.request("GET", `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`);
        if (res.status !== 200) return undefined;
        const status = (JSON.parse(res.body) as { status?: { conditions?: { type: string; status: string }[] } })
          .status;
        return status?.conditions?.some((c) => c.type === "Established" && c.status === "True") ? true : undefined;
      });
    }
    await this.kube.json(
      "POST",
      "/api/v1/namespaces",
      { apiVersion: "v1", kind: "Namespace", metadata: { name: ARGOCD_NS } },
      { allowed: [409] },
    );
    // The settings an install ships (manifests/base/config), empty: Argo CD's defaults.
    const labels = { "app.kubernetes.io/part-of": "argocd" };
    for (const name of ["argocd-cm", "argocd-rbac-cm"]) {
      await this.kube.json(
        "POST",
        `/api/v1/namespaces/${ARGOCD_NS}/configmaps`,
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name, labels } },
        { allowed: [409] },
      );
    }
    await this.kube.json(
      "POST",
      `/api/v1/namespaces/${ARGOCD_NS}/secrets`,
      { apiVersion: "v1", kind: "Secret", metadata: { name: "argocd-secret", labels } },
      { allowed: [409] },
    );
    await this.kube.json(
      "POST",
      `/apis/argoproj.io/v1alpha1/namespaces/${ARGOCD_NS}/appprojects`,
      {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "AppProject",
        metadata: { name: "default" },
        spec: {
          sourceRepos: ["*"],
          destinations: [{ server: "*", namespace: "*" }],
          clusterResourceWhitelist: [{ group: "*", kind: "*" }],
        },
      },
      { allowed: [409] },
    );

    // On the repo server's PATH, as in upstream's image: helm by that name (the build names it
    // by version and key), and the script it runs on every revision it checks out (the
    // module cache drops its executable bit).
    const bin = path.join(this.dir, "bin");
    mkdirSync(bin);
    symlinkSync(this.env.helm, path.join(bin, "helm"));
    copyFileSync(path.join(src, "hack/git-verify-wrapper.sh"), path.join(bin, "git-verify-wrapper.sh"));
    chmodSync(path.join(bin, "git-verify-wrapper.sh"), 0o755);
    const [redisPort, repoPort, repoMetrics, controllerMetrics] = await freePorts(4);
    const common = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      KUBECONFIG: this.env.kubeconfig,
      ARGOCD_FAKE_IN_CLUSTER: "true",
      ARGOCD_GPG_ENABLED: "false",
      ARGOCD_TLS_DATA_PATH: path.join(this.dir, "tls"),
      ARGOCD_SSH_DATA_PATH: path.join(this.dir, "ssh"),
      ARGOCD_GNUPGHOME: path.join(this.dir, "gpg"),
      HOME: this.dir,
    };
    for (const d of ["tls", "ssh", "gpg"]) mkdirSync(path.join(this.dir, d));
    const logs = path.join(this.dir, "logs");
    mkdirSync(logs);
    this.processes.push(
      new ServerProcess(
        "redis",
        redis,
        ["--bind", "127.0.0.1", "--port", String(redisPort), "--save", "", "--appendonly", "no", "--dir", this.dir],
        path.join(logs, "redis.log"),
      ),
    );
    this.processes.push(
      new ServerProcess(
        "argocd-repo-server",
        binary,
        [
          "--port",
          String(repoPort),
          "--metrics-port",
          String(repoMetrics),
          "--redis",
          `127.0.0.1:${redisPort}`,
          "--loglevel",
          "info",
        ],
        path.join(logs, "repo-server.log"),
        { env: { ...common, ARGOCD_BINARY_NAME: "argocd-repo-server" }, cwd: this.dir },
      ),
    );
    this.processes.push(
      new ServerProcess(
        "argocd-application-controller",
        binary,
        [
          "--namespace",
          ARGOCD_NS,
          "--metrics-port",
          String(controllerMetrics),
          "--redis",
          `127.0.0.1:${redisPort}`,
          "--repo-server",
          `127.0.0.1:${repoPort}`,
          "--loglevel",
          "info",
          "--status-processors",
          "2",
          "--operation-processors",
          "2",
        ],
        path.join(logs, "application-controller.log"),
        { env: { ...common, ARGOCD_BINARY_NAME: "argocd-application-controller" }, cwd: this.dir },
      ),
    );
    this.watchdog = startWatchdog(this.processes.map((p) => p.pid!).filter(Boolean), this.dir);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await this.assertRunning();
  }

  /** Fails with the log tail of any Argo CD process that stopped. */
  async assertRunning(): Promise<void> {
    for (const p of this.processes) {
      const reason = p.exitReason;
      if (reason !== undefined) throw new Error(`${p.name} ${reason}:\n${await p.logTail()}`);
    }
  }

  async logTails(lines = 40): Promise<string> {
    const tails = await Promise.all(this.processes.map(async (p) => `--- ${p.name}\n${await p.logTail(lines)}`));
    return tails.join("\n");
  }

  async stop(): Promise<void> {
    for (const p of [...this.processes].reverse()) await p.stop();
    this.watchdog?.disarm();
    rmSync(this.dir, { recursive: true, force: true });
  }

  async create(app: Application): Promise<void> {
    await this.kube.json("POST", APPLICATIONS, app);
  }

  async application(name: string): Promise<Application> {
    return this.kube.get<Application>(`${APPLICATIONS}/${name}`);
  }

  /** Deletes the Application if there is one (none when start failed before the CRD was in). */
  async delete(name: string): Promise<void> {
    const res = await this.kube.request("DELETE", `${APPLICATIONS}/${name}`);
    if (res.status !== 200 && res.status !== 404)
      throw new Error(`DELETE Application ${name} answered ${res.status}: ${res.body.slice(0, 300)}`);
  }

  /** `argocd app get --refresh`: the controller compares with Git again now, not on its 3-minute timer. Returns when it has (it removes the annotation). */
  async refresh(name: string): Promise<Application> {
    await this.kube.json(
      "PATCH",
      `${APPLICATIONS}/${name}`,
      { metadata: { annotations: { "argocd.argoproj.io/refresh": "normal" } } },
      { contentType: "application/merge-patch+json" },
    );
    return waitFor(`Application ${name} to be refreshed`, 60_000, async () => {
      await this.assertRunning();
      const app = await this.application(name);
      return app.metadata.annotations?.["argocd.argoproj.io/refresh"] === undefined ? app : undefined;
    });
  }

  /** Waits until the last sync operation finished for `revision`, Synced and Healthy; fails early on a failed sync. */
  async synced(name: string, revision: string, timeoutMs: number): Promise<Application> {
    return waitFor(
      `Application ${name} Synced and Healthy at ${revision.slice(0, 8)}`,
      timeoutMs,
      async () => {
        await this.assertRunning();
        const app = await this.application(name);
        const op = app.status?.operationState;
        if (op?.phase === "Failed" || op?.phase === "Error") {
          throw new Error(`the sync of ${name} ended ${op.phase}: ${op.message}\n${await this.logTails()}`);
        }
        const done =
          op?.phase === "Succeeded" &&
          op.syncResult?.revision === revision &&
          app.status?.sync?.status === "Synced" &&
          app.status?.sync?.revision === revision &&
          app.status?.health?.status === "Healthy";
        return done ? app : undefined;
      },
      2000,
    );
  }
}
