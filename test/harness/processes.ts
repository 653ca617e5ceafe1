import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";

const STOP_GRACE_MS = 5_000;

/** A server process whose output goes to a log file. */
export class ServerProcess {
  private readonly child: ChildProcess;
  private readonly exited: Promise<void>;
  private spawnError: Error | undefined;

  constructor(
    readonly name: string,
    binary: string,
    args: string[],
    readonly logFile: string,
    options: Pick<SpawnOptions, "env" | "uid" | "gid" | "cwd"> = {},
  ) {
    const log = openSync(logFile, "a");
    try {
      this.child = spawn(binary, args, { ...options, stdio: ["ignore", log, log] });
    } finally {
      closeSync(log);
    }
    this.exited = new Promise((resolve) => {
      this.child.once("exit", () => resolve());
      this.child.once("error", (err) => {
        this.spawnError = err;
        resolve();
      });
    });
  }

  /** Why the process is no longer running, or undefined while it runs. */
  get exitReason(): string | undefined {
    if (this.spawnError) return `could not be started: ${this.spawnError.message}`;
    const { exitCode, signalCode } = this.child;
    if (exitCode !== null) return `exited with code ${exitCode}`;
    if (signalCode !== null) return `was killed by ${signalCode}`;
    return undefined;
  }

  async logTail(lines = 30): Promise<string> {
    const text = await readFile(this.logFile, "utf8").catch(() => "");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Stops the process with `signal` (SIGTERM unless a server's own shutdown mode needs another), SIGKILL after a grace period. */
  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.exitReason !== undefined) return;
    this.child.kill(signal);
    const timer = setTimeout(() => this.child.kill("SIGKILL"), STOP_GRACE_MS);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * A test run can die without its teardown (killed, or a crash in vitest); the servers
 * it started must not outlive it. The watchdog is a shell blocked reading a pipe from
 * this process: when this process dies the pipe closes, and it kills the servers and
 * removes `tempDir` if given. `disarm` is for an orderly stop.
 */
export function startWatchdog(pids: number[], tempDir?: string): { disarm(): void } {
  const script = 'dir=$1; shift; read -r _; kill -KILL "$@" 2>/dev/null; [ -z "$dir" ] || { sleep 1; rm -rf "$dir"; }';
  const watchdog = spawn("sh", ["-c", script, "reseed-watchdog", tempDir ?? "", ...pids.map(String)], {
    stdio: ["pipe", "ignore", "ignore"],
  });
  watchdog.on("error", () => undefined); // without it the servers still stop through teardown
  // Unreferenced: a process that forgets stop() still exits, and then the watchdog fires.
  watchdog.unref();
  (watchdog.stdin as Socket | null)?.unref();
  return {
    disarm() {
      watchdog.kill("SIGKILL");
      watchdog.stdin?.destroy();
    },
  };
}

/** Distinct free loopback ports, all held open until all are found so none repeats. */
export async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(0, "127.0.0.1", resolve);
      });
    }
    return servers.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}
