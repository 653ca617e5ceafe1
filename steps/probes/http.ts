import { httpGet } from "../core/http.js";
import type { Dependency } from "../core/spec.js";
import type { Probe, ProbeEnv } from "./probe.js";

type HttpDependency = Extract<Dependency, { http: unknown }>;

export function httpProbe({ http: dep }: HttpDependency, env: ProbeEnv): Probe {
  const url = new URL(dep.url);
  return {
    name: `http ${url.origin}${url.pathname}`,
    async check() {
      const res = await httpGet(dep.url, { timeoutMs: env.attemptTimeoutMs });
      const ok = dep.expectStatus ? dep.expectStatus.includes(res.status) : res.status >= 200 && res.status < 300;
      if (!ok) throw new Error(`answered HTTP ${res.status}`);
    },
  };
}
