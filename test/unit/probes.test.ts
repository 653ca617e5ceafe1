import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ExitCode, SeedError } from "../../steps/core/errors.js";
import { createLogger } from "../../steps/core/log.js";
import { Redactor } from "../../steps/core/redact.js";
import { waitForDependencies } from "../../steps/probes/index.js";

let server: http.Server;
let port: number;
let healthyAfter = 0;
let hits = 0;

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    hits++;
    res.writeHead(hits > healthyAfter ? 200 : 503).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const lines: string[] = [];
const log = createLogger({
  redactor: new Redactor(),
  phase: "wait-deps",
  sink: { write: (l) => lines.push(l) },
  pretty: false,
});
const env = {
  kube: () => {
    throw new Error("no kube");
  },
  namespace: "ns",
  attemptTimeoutMs: 500,
};

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

describe("waitForDependencies", () => {
  it("retries with backoff until a dependency becomes ready", async () => {
    healthyAfter = 2;
    hits = 0;
    const r = await waitForDependencies(
      [{ http: { url: `http://127.0.0.1:${port}/healthz` } }, { tcp: { host: "127.0.0.1", port } }],
      {
        env,
        timeoutSeconds: 10,
        log,
        retry: { initialDelayMs: 20, maxDelayMs: 50 },
      },
    );
    expect(r.attempts[`http http://127.0.0.1:${port}/healthz`]).toBe(3);
    expect(lines.some((l) => l.includes("dependency.waiting"))).toBe(true);
  });

  it("fails at the deadline naming every dependency that never came up and its last error", async () => {
    const closed = await freePort();
    healthyAfter = Number.POSITIVE_INFINITY;
    const started = Date.now();
    const err = await waitForDependencies(
      [{ http: { url: `http://127.0.0.1:${port}/healthz` } }, { tcp: { host: "127.0.0.1", port: closed } }],
      { env, timeoutSeconds: 1, log, retry: { initialDelayMs: 50, maxDelayMs: 100 } },
    ).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(err).toBeInstanceOf(SeedError);
    const e = err as SeedError;
    expect(e.code).toBe(ExitCode.dependencyTimeout);
    expect(e.problems.map((p) => p.subject)).toEqual([
      `http http://127.0.0.1:${port}/healthz`,
      `tcp 127.0.0.1:${closed}`,
    ]);
    expect(e.problems[0]!.message).toContain("answered HTTP 503");
    expect(e.problems[1]!.message).toContain("ECONNREFUSED");
  });
});
