import { access } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { freePorts, ServerProcess, startWatchdog } from "./processes.js";

/** A running test Keycloak, as plain data for test files (inject("keycloak")). */
export interface KeycloakInfo {
  url: string;
  /** The bootstrap admin of the master realm; a throwaway per run, never a unit input. */
  adminUser: string;
  adminPassword: string;
  startMs: number;
}

declare module "vitest" {
  export interface ProvidedContext {
    keycloak: KeycloakInfo;
  }
}

const READY_TIMEOUT_MS = 600_000;

/**
 * Starts the Keycloak distribution that `make keycloak` built (in-memory H2, so every run
 * starts from an empty server) on random loopback ports and waits until the master realm
 * answers.
 */
export async function startKeycloak(): Promise<{ info: KeycloakInfo; stop(): Promise<void> }> {
  const home = process.env.RESEED_KEYCLOAK_HOME;
  if (!home) {
    throw new Error(
      "RESEED_KEYCLOAK_HOME is not set: it names the built Keycloak distribution. " +
        "Run the tests through make (it sets it), or run `make keycloak` and export RESEED_KEYCLOAK_HOME=$HOME/.cache/reseed/keycloak-<version>",
    );
  }
  try {
    await access(join(home, "lib", "quarkus", "build-system.properties"));
  } catch {
    throw new Error(`Keycloak is missing or not built at ${home}: run \`make keycloak\` (make test does it first)`);
  }
  const started = Date.now();
  const dir = await mkdtemp(join(tmpdir(), "reseed-keycloak-"));
  const [httpPort, managementPort] = (await freePorts(2)) as [number, number];
  const adminPassword = randomBytes(12).toString("hex");
  const server = new ServerProcess(
    "keycloak",
    join(home, "bin", "kc.sh"),
    [
      "start",
      "--optimized",
      "--http-enabled=true",
      "--hostname-strict=false",
      // One node: no JGroups discovery and no cluster transport to set up.
      "--cache=local",
      "--http-host=127.0.0.1",
      `--http-port=${httpPort}`,
      `--http-management-port=${managementPort}`,
    ],
    join(dir, "keycloak.log"),
    {
      env: {
        ...process.env,
        KC_BOOTSTRAP_ADMIN_USERNAME: "admin",
        KC_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
        // A short-lived test server: the C1 JIT compiles sooner and halves the start on 2 cores.
        JAVA_OPTS_APPEND: "-XX:TieredStopAtLevel=1",
      },
    },
  );
  const watchdog = startWatchdog(server.pid ? [server.pid] : [], dir);
  const stop = async () => {
    watchdog.disarm();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const url = `http://127.0.0.1:${httpPort}`;
  try {
    for (;;) {
      const reason = server.exitReason;
      if (reason) throw new Error(`Keycloak ${reason}:\n${await server.logTail()}`);
      if (Date.now() - started > READY_TIMEOUT_MS)
        throw new Error(`Keycloak did not answer within ${READY_TIMEOUT_MS / 1000} s:\n${await server.logTail()}`);
      const res = await fetch(`${url}/realms/master/.well-known/openid-configuration`).catch(() => undefined);
      if (res?.ok) break;
      await new Promise((r) => setTimeout(r, 500));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { info: { url, adminUser: "admin", adminPassword, startMs: Date.now() - started }, stop };
}
