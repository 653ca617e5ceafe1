import { httpGet } from "../core/http.js";
import type { Dependency } from "../core/spec.js";
import type { Probe, ProbeEnv } from "./probe.js";

type VaultDependency = Extract<Dependency, { vault: unknown }>;

// sys/health answers by status code: 200 active, 429 standby (reads are forwarded),
// 472/473 DR or performance standby; 501 not initialised, 503 sealed.
const READY = new Set([200, 429, 472, 473]);
const NOT_READY: Record<number, string> = { 501: "is not initialized", 503: "is sealed", 530: "is a removed node" };

export function vaultProbe({ vault: dep }: VaultDependency, env: ProbeEnv): Probe {
  const base = dep.address.replace(/\/$/, "");
  return {
    name: `vault ${base}`,
    async check() {
      const res = await httpGet(`${base}/v1/sys/health`, { timeoutMs: env.attemptTimeoutMs });
      if (READY.has(res.status)) return;
      throw new Error(NOT_READY[res.status] ?? `sys/health answered HTTP ${res.status}`);
    },
  };
}
