import http from "node:http";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveInputs } from "../../steps/inputs/index.js";
import { Redactor } from "../../steps/core/redact.js";
import type { InputRef } from "../../steps/core/spec.js";

let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === "/.well-known/openid-configuration") {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ issuer: "https://issuer.test.internal", keys: [{ kid: "k1" }] }));
    } else res.writeHead(503).end("down");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

const noKube = () => {
  throw new Error("this test resolves no Kubernetes input");
};

async function resolve(declared: Record<string, InputRef>, env: NodeJS.ProcessEnv = {}, managed = true) {
  const redactor = new Redactor();
  const r = await resolveInputs(declared, {
    env: { namespace: "ns", kube: noKube, env, timeoutMs: 2000, redactor },
    redactor,
    managed,
  });
  return { ...r, redactor };
}

describe("resolveInputs", () => {
  it("resolves env, file, literal and httpJson inputs, publishing only non-secret ones as facts", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "reseed-in-"));
    await writeFile(path.join(dir, "token"), "file-secret-value\n");
    const r = await resolve(
      {
        region: { env: "REGION" },
        token: { file: path.join(dir, "token"), secret: true },
        cluster: { value: "prod-eu-1" },
        issuer: { httpJson: { url: `${base}/.well-known/openid-configuration`, field: "issuer" } },
        kid: { httpJson: { url: `${base}/.well-known/openid-configuration`, field: "keys.0.kid" } },
      },
      { REGION: "westeurope" },
    );
    expect(r.problems).toEqual([]);
    expect(r.inputs.get("token")).toBe("file-secret-value");
    expect(r.facts).toEqual({
      cluster: "prod-eu-1",
      issuer: "https://issuer.test.internal",
      kid: "k1",
      region: "westeurope",
    });
    expect(r.redactor.mask("file-secret-value")).toBe("[REDACTED]");
  });

  it("reports every missing, empty and placeholder input at once, by name and reference (C1)", async () => {
    const r = await resolve(
      {
        a: { env: "UNSET_A" },
        b: { env: "EMPTY_B" },
        c: { value: "changeme" },
        d: { file: "/nonexistent/reseed/file" },
        e: { httpJson: { url: `${base}/down`, field: "x" } },
        f: { httpJson: { url: `${base}/.well-known/openid-configuration`, field: "nope" } },
        g: { env: "UNSET_G", optional: true },
      },
      { EMPTY_B: "" },
    );
    expect(r.problems.map((p) => `${p.subject}: ${p.message}`)).toEqual([
      "a: environment variable UNSET_A is not set",
      "b: environment variable EMPTY_B is empty",
      "c: literal value is a well-known placeholder word; managed environments take no placeholders (C1)",
      "d: file /nonexistent/reseed/file does not exist (is the volume mounted?)",
      `e: field x of ${base}/down answered HTTP 503`,
      `f: field nope of ${base}/.well-known/openid-configuration has no field nope`,
    ]);
  });

  it("accepts placeholders only outside managed environments", async () => {
    expect((await resolve({ c: { value: "changeme" } }, {}, false)).problems).toEqual([]);
  });

  it("rejects secrets too short to mask, and never echoes a secret in a problem", async () => {
    const r = await resolve(
      { s: { env: "S", secret: true }, p: { env: "P", secret: true } },
      { S: "abc", P: "<my-real-secret>" },
    );
    const text = JSON.stringify(r.problems);
    expect(text).toContain("shorter than 4");
    expect(text).not.toContain("my-real-secret");
    expect(r.redactor.mask("<my-real-secret>")).toBe("[REDACTED]");
  });
});

describe("resolveInputs: a non-secret input that holds a secret", () => {
  it("is refused when it holds a secret input whole, and published when it only shares a run with one", async () => {
    const r = await resolve(
      {
        ownerEmail: { env: "OWNER", secret: true },
        adminEmail: { env: "ADMIN" },
        echoed: { env: "ECHO" },
      },
      {
        OWNER: "reseed-bootstrap@corp.internal",
        ADMIN: "platform-admin@corp.internal",
        ECHO: "Bearer reseed-bootstrap@corp.internal",
      },
    );
    expect(r.facts).toEqual({ adminEmail: "platform-admin@corp.internal" });
    expect(r.problems.map((p) => p.subject)).toEqual(["echoed"]);
  });
});
