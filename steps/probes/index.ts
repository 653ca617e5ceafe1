import { ExitCode, SeedError, type Problem } from "../core/errors.js";
import type { Logger } from "../core/log.js";
import { retryUntil, type RetryOptions } from "../core/retry.js";
import type { Dependency } from "../core/spec.js";
import { httpProbe } from "./http.js";
import { kubernetesProbe } from "./kubernetes.js";
import type { Probe, ProbeEnv } from "./probe.js";
import { tcpProbe } from "./tcp.js";
import { vaultProbe } from "./vault.js";

export type { ProbeEnv } from "./probe.js";

export function probeFor(dep: Dependency, env: ProbeEnv): Probe {
  if ("http" in dep) return httpProbe(dep, env);
  if ("tcp" in dep) return tcpProbe(dep, env);
  if ("vault" in dep) return vaultProbe(dep, env);
  return kubernetesProbe(dep, env);
}

/**
 * Waits for every dependency concurrently, each with backoff and jitter, all against one
 * deadline. On timeout it names each dependency that never became ready and its last error.
 */
export async function waitForDependencies(
  deps: Dependency[],
  opts: { env: ProbeEnv; timeoutSeconds: number; log: Logger; retry?: Partial<RetryOptions> },
): Promise<{ waitedMs: number; attempts: Record<string, number> }> {
  const started = Date.now();
  const deadline = started + opts.timeoutSeconds * 1000;
  const probes = deps.map((d) => probeFor(d, opts.env));
  const results = await Promise.all(
    probes.map(async (probe) => {
      const r = await retryUntil(() => probe.check(), {
        deadline,
        ...opts.retry,
        onRetry: (attempt, err, delayMs) =>
          opts.log.info(
            { event: "dependency.waiting", dependency: probe.name, attempt, delayMs, reason: errText(err) },
            "dependency not ready yet",
          ),
      });
      if (r.ok)
        opts.log.info({ event: "dependency.ready", dependency: probe.name, attempts: r.attempts }, "dependency ready");
      return { probe, r };
    }),
  );
  const problems: Problem[] = results
    .filter(({ r }) => !r.ok)
    .map(({ probe, r }) => ({
      subject: probe.name,
      message: `not ready after ${r.attempts} attempts: ${errText(!r.ok ? r.lastError : undefined)}`,
    }));
  if (problems.length) {
    throw new SeedError(
      ExitCode.dependencyTimeout,
      `${problems.length} dependenc${problems.length === 1 ? "y" : "ies"} not ready within ${opts.timeoutSeconds}s`,
      "bring the dependency up or raise waitTimeoutSeconds; nothing was written",
      problems,
    );
  }
  return {
    waitedMs: Date.now() - started,
    attempts: Object.fromEntries(results.map(({ probe, r }) => [probe.name, r.attempts])),
  };
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
