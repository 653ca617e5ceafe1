import net from "node:net";
import type { Dependency } from "../core/spec.js";
import type { Probe, ProbeEnv } from "./probe.js";

export function tcpProbe({ tcp: dep }: Extract<Dependency, { tcp: unknown }>, env: ProbeEnv): Probe {
  return {
    name: `tcp ${dep.host}:${dep.port}`,
    check: () =>
      new Promise<void>((resolve, reject) => {
        const socket = net.connect({ host: dep.host, port: dep.port, timeout: env.attemptTimeoutMs });
        socket.once("connect", () => {
          socket.destroy();
          resolve();
        });
        socket.once("timeout", () => socket.destroy(new Error(`no connection within ${env.attemptTimeoutMs} ms`)));
        socket.once("error", reject);
      }),
  };
}
