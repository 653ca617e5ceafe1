import { constants } from "node:fs";
import { access, mkdir, mkdtemp, readFile, rm, stat, writeFile, open } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { httpsClient, type HttpsClient } from "./https-client.js";
import { makePki } from "./pki.js";
import { freePorts, ServerProcess, startWatchdog } from "./processes.js";

/** A running OpenBao, as plain data: global setup hands the dev server's to test files. */
export interface OpenBaoInfo {
  address: string;
  caFile: string;
  rootToken: string;
  unsealKey: string;
  auditLog: string;
  logFile: string;
}

export interface OpenBaoServer {
  info: OpenBaoInfo;
  stop(): Promise<void>;
}

declare module "vitest" {
  export interface ProvidedContext {
    openbao: OpenBaoInfo;
  }
}

/**
 * Starts `bao server -dev` on a free loopback port with its own TLS CA (-dev-tls) and a file
 * audit device declared in config (OpenBao 2.4 creates audit devices from config only), so
 * writes are counted at the server. The dev server keeps everything in memory.
 */
export async function startOpenBao(bao = process.env.RESEED_BAO): Promise<OpenBaoServer> {
  const binary = await checkBinary(bao);
  const dir = await mkdtemp(join(tmpdir(), "reseed-openbao-"));
  let server: ServerProcess | undefined;
  let watchdog: { disarm(): void } | undefined;
  const stop = async () => {
    watchdog?.disarm();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [port] = (await freePorts(1)) as [number];
    const tlsDir = join(dir, "tls");
    await mkdir(tlsDir);
    const auditLog = join(dir, "audit.log");
    const config = join(dir, "audit.hcl");
    await writeFile(config, `audit "file" "reseed" {\n  options {\n    file_path = "${auditLog}"\n  }\n}\n`);
    const rootToken = `root-${randomBytes(12).toString("hex")}`;
    const logFile = join(dir, "openbao.log");
    server = new ServerProcess(
      "openbao",
      binary,
      [
        "server",
        "-dev",
        "-dev-tls",
        `-dev-tls-cert-dir=${tlsDir}`,
        `-dev-listen-address=127.0.0.1:${port}`,
        `-dev-root-token-id=${rootToken}`,
        `-config=${config}`,
        "-log-level=warn",
      ],
      logFile,
      { env: { HOME: dir, PATH: process.env.PATH ?? "" } },
    );
    watchdog = startWatchdog(server.pid ? [server.pid] : [], dir);
    const address = `https://127.0.0.1:${port}`;
    const caFile = join(tlsDir, "vault-ca.pem");
    await waitHealthy(server, address, caFile, 60_000);
    // The dev banner with the unseal key is printed just after the listener answers.
    let unsealKey: string | undefined;
    for (let i = 0; i < 100 && !unsealKey; i++) {
      unsealKey = /Unseal Key: (\S+)/.exec(await readFile(logFile, "utf8"))?.[1];
      if (!unsealKey) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (!unsealKey) throw new Error(`OpenBao printed no unseal key; its log:\n${await server.logTail()}`);
    return { info: { address, caFile, rootToken, unsealKey, auditLog, logFile }, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The OpenBao binary, or an error saying how to get one. */
async function checkBinary(binary: string | undefined): Promise<string> {
  if (!binary) {
    throw new Error(
      "RESEED_BAO is not set: it names the OpenBao server binary. Run `make servers` and run the tests through make " +
        "(it sets it), or export RESEED_BAO=$HOME/.cache/reseed/bin/bao",
    );
  }
  await access(binary, constants.X_OK).catch(() => {
    throw new Error(`missing executable ${binary} (RESEED_BAO): build it with \`make servers\``);
  });
  return binary;
}

/** An OpenBao whose data outlives its process: it can be stopped, started sealed, unsealed. */
export interface PersistentOpenBao extends OpenBaoServer {
  /** Stops the process; the storage stays, and the port answers nothing until startSealed(). */
  stopProcess(): Promise<void>;
  /** Starts the process again on the same storage and port: it comes up sealed, as after any restart. */
  startSealed(): Promise<void>;
  /** Unseals with the one key share and waits until it is active. */
  unseal(): Promise<void>;
  /** stopProcess, startSealed and unseal: a restart as an operator does it. */
  restart(): Promise<void>;
}

/**
 * A production-shaped OpenBao, unlike the dev server: file storage, a listener with a TLS
 * certificate of its own CA, initialised with one key share (threshold 1), unsealed, KV v2
 * mounted at `secret` (where the dev server has it), and the same file audit device in config,
 * so writes are counted across restarts (the log file is appended to, never truncated). Its
 * process can be stopped and started again on the same storage and port, which the dev server
 * (everything in memory) cannot survive.
 */
export async function startPersistentOpenBao(bao = process.env.RESEED_BAO): Promise<PersistentOpenBao> {
  const binary = await checkBinary(bao);
  const dir = await mkdtemp(join(tmpdir(), "reseed-openbao-file-"));
  let server: ServerProcess | undefined;
  let watchdog: { disarm(): void } | undefined;
  const stopProcess = async () => {
    watchdog?.disarm();
    await server?.stop();
    server = undefined;
  };
  const stop = async () => {
    await stopProcess();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const [port] = (await freePorts(1)) as [number];
    const address = `https://127.0.0.1:${port}`;
    await mkdir(join(dir, "tls"));
    const pki = await makePki(join(dir, "tls"));
    const auditLog = join(dir, "audit.log");
    const logFile = join(dir, "openbao.log");
    const config = join(dir, "openbao.hcl");
    await mkdir(join(dir, "data"));
    await writeFile(
      config,
      [
        `storage "file" {\n  path = "${join(dir, "data")}"\n}`,
        `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  tls_cert_file = "${pki.servingCert}"\n  tls_key_file = "${pki.servingKey}"\n}`,
        `api_addr = "${address}"`,
        // mlock needs CAP_IPC_LOCK, which a test process does not have.
        "disable_mlock = true",
        `audit "file" "reseed" {\n  options {\n    file_path = "${auditLog}"\n  }\n}`,
      ].join("\n") + "\n",
    );
    const client = httpsClient(address, pki.caCert);
    const startSealed = async () => {
      server = new ServerProcess("openbao", binary, ["server", `-config=${config}`, "-log-level=warn"], logFile, {
        env: { HOME: dir, PATH: process.env.PATH ?? "" },
      });
      watchdog = startWatchdog(server.pid ? [server.pid] : [], dir);
      // Sealed (503) or not initialised (501) is an answer: the listener is up.
      await waitHealthy(server, address, pki.caCert, 60_000, [501, 503]);
    };
    await startSealed();
    const init = await client.json<{ keys_base64: string[]; root_token: string }>("PUT", "/v1/sys/init", {
      body: { secret_shares: 1, secret_threshold: 1 },
    });
    const info: OpenBaoInfo = {
      address,
      caFile: pki.caCert,
      rootToken: init.root_token,
      unsealKey: init.keys_base64[0]!,
      auditLog,
      logFile,
    };
    const admin = new OpenBaoAdmin(info);
    const unseal = async () => {
      await admin.unseal();
      await waitHealthy(server!, address, pki.caCert, 60_000);
    };
    await unseal();
    await admin.enableKv("secret");
    return {
      info,
      stop,
      stopProcess,
      startSealed,
      unseal,
      async restart() {
        await stopProcess();
        await startSealed();
        await unseal();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitHealthy(
  server: ServerProcess,
  address: string,
  caFile: string,
  timeoutMs: number,
  alsoReady: number[] = [],
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "no answer yet";
  for (;;) {
    if (server.exitReason)
      throw new Error(
        `openbao ${server.exitReason} while starting; last lines of ${server.logFile}:\n${await server.logTail()}`,
      );
    const ready = await access(caFile).then(
      () => true,
      () => false,
    );
    if (ready) {
      const res = await httpsClient(address, caFile)
        .request("GET", "/v1/sys/health")
        .catch((err: Error) => ({ status: 0, body: err.message }));
      if (res.status === 200 || alsoReady.includes(res.status)) return;
      last = `${res.status} ${res.body}`;
    }
    if (Date.now() > deadline)
      throw new Error(
        `OpenBao at ${address} was not healthy within ${timeoutMs} ms (last: ${last}); log:\n${await server.logTail()}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** What tests do with OpenBao as its root: KV data, policies, roles, namespaces, seal and unseal. */
export class OpenBaoAdmin {
  readonly client: HttpsClient;
  constructor(readonly info: OpenBaoInfo) {
    this.client = httpsClient(info.address, info.caFile, () => ({ "x-vault-token": info.rootToken }));
  }

  private ns(namespace?: string): Record<string, string> {
    return namespace ? { "x-vault-namespace": namespace } : {};
  }

  async write(path: string, body: unknown, namespace?: string): Promise<unknown> {
    return this.client.json("POST", `/v1/${path}`, { body, headers: this.ns(namespace) });
  }

  async kvPut(mount: string, path: string, data: Record<string, string>, namespace?: string): Promise<void> {
    await this.write(`${mount}/data/${path}`, { data }, namespace);
  }

  async kvGet(
    mount: string,
    path: string,
    namespace?: string,
  ): Promise<{ data: Record<string, string>; version: number; customMetadata: Record<string, string> } | undefined> {
    const res = await this.client.request("GET", `/v1/${mount}/data/${path}`, { headers: this.ns(namespace) });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET ${mount}/data/${path} answered ${res.status}: ${res.body}`);
    const body = JSON.parse(res.body) as {
      data: {
        data: Record<string, string> | null;
        metadata: { version: number; custom_metadata: Record<string, string> | null };
      };
    };
    if (!body.data.data) return undefined;
    return {
      data: body.data.data,
      version: body.data.metadata.version,
      customMetadata: body.data.metadata.custom_metadata ?? {},
    };
  }

  /** Removes every version and the metadata: the secret is gone as after a Vault restore without it. */
  async kvDestroy(mount: string, path: string, namespace?: string): Promise<void> {
    await this.client.json("DELETE", `/v1/${mount}/metadata/${path}`, { headers: this.ns(namespace) });
  }

  async policy(name: string, hcl: string, namespace?: string): Promise<void> {
    await this.client.json("PUT", `/v1/sys/policies/acl/${name}`, {
      body: { policy: hcl },
      headers: this.ns(namespace),
    });
  }

  /** A kubernetes auth role bound to one service account. */
  async kubernetesRole(
    name: string,
    serviceAccount: { namespace: string; name: string },
    policies: string[],
    namespace?: string,
  ): Promise<void> {
    await this.write(
      `auth/kubernetes/role/${name}`,
      {
        bound_service_account_names: [serviceAccount.name],
        bound_service_account_namespaces: [serviceAccount.namespace],
        token_policies: policies,
        token_ttl: "10m",
      },
      namespace,
    );
  }

  async token(policies: string[], namespace?: string): Promise<string> {
    const res = await this.client.json<{ auth: { client_token: string } }>("POST", "/v1/auth/token/create", {
      body: { policies, ttl: "1h", no_default_policy: false },
      headers: this.ns(namespace),
    });
    return res.auth.client_token;
  }

  async namespace(name: string): Promise<void> {
    await this.client.json("POST", `/v1/sys/namespaces/${name}`, { body: {}, allowed: [400] });
  }

  async enableKv(mount: string, namespace?: string): Promise<void> {
    await this.client.json("POST", `/v1/sys/mounts/${mount}`, {
      body: { type: "kv", options: { version: "2" } },
      headers: this.ns(namespace),
      allowed: [400],
    });
  }

  async enableKubernetesAuth(
    config: { host: string; caPem: string; reviewerJwt: string },
    namespace?: string,
  ): Promise<void> {
    await this.client.json("POST", "/v1/sys/auth/kubernetes", {
      body: { type: "kubernetes" },
      headers: this.ns(namespace),
      allowed: [400],
    });
    await this.write(
      "auth/kubernetes/config",
      { kubernetes_host: config.host, kubernetes_ca_cert: config.caPem, token_reviewer_jwt: config.reviewerJwt },
      namespace,
    );
  }

  async seal(): Promise<void> {
    await this.client.json("PUT", "/v1/sys/seal");
  }

  async unseal(): Promise<void> {
    await this.client.json("PUT", "/v1/sys/unseal", { body: { key: this.info.unsealKey } });
  }
}

interface AuditEntry {
  type?: string;
  auth?: { policies?: string[] };
  request?: { operation?: string; path?: string; namespace?: { path?: string } };
  error?: string;
}

const WRITE_OPERATIONS = new Set(["create", "update", "patch", "delete"]);

/**
 * Writes OpenBao recorded in its audit log: every create/update/patch/delete response,
 * logins excluded (a login mints a token, it changes no seeded state). Vault writes the
 * response entry before it answers, so a mark taken after a call has returned is exact.
 */
export class OpenBaoAudit {
  constructor(private readonly path: string) {}

  async mark(): Promise<number> {
    return (await stat(this.path)).size;
  }

  async since(mark: number): Promise<string[]> {
    return (await this.entries(mark))
      .filter(
        (e) =>
          e.type === "response" &&
          WRITE_OPERATIONS.has(e.request?.operation ?? "") &&
          !/^auth\/[^/]+\/login$/.test(e.request?.path ?? ""),
      )
      .map(
        (e) =>
          `vault ${e.request?.operation} ${e.request?.namespace?.path ?? ""}${e.request?.path}${e.error ? ` (${e.error})` : ""}`,
      );
  }

  /** Every request OpenBao answered after the mark, reads included: "read secret/data/app". */
  async requestsSince(mark: number): Promise<string[]> {
    return (await this.entries(mark))
      .filter((e) => e.type === "response")
      .map((e) => `${e.request?.operation} ${e.request?.path}`);
  }

  /**
   * The requests answered after the mark whose token carries `policy`, logins that minted such
   * a token included: one client's share of a server that several clients use at once.
   */
  async requestsWithPolicy(mark: number, policy: string): Promise<string[]> {
    return (await this.entries(mark))
      .filter((e) => e.type === "response" && (e.auth?.policies ?? []).includes(policy))
      .map((e) => `${e.request?.operation} ${e.request?.path}`);
  }

  private async entries(mark: number): Promise<AuditEntry[]> {
    const file = await open(this.path, "r");
    try {
      const size = (await file.stat()).size;
      const buffer = Buffer.alloc(Math.max(size - mark, 0));
      await file.read(buffer, 0, buffer.length, mark);
      return buffer
        .toString("utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as AuditEntry);
    } finally {
      await file.close();
    }
  }
}
