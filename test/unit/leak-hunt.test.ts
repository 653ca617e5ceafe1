// The leak hunt's own parts, and the HTTP clients of the kinds and stores against the hostile
// echo server in every mode, in process: each client's error goes the way a step's does
// (asSeedError → summarize → headline, the text of the log line, the summary output and the
// Event) and must carry no canary in any form. The conformance suite does the same with
// whole step processes for every kind (test/conformance/conformance.test.ts).
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asSeedError, ExitCode } from "../../steps/core/errors.js";
import { Redactor } from "../../steps/core/redact.js";
import { headline, summarize, terminationMessage } from "../../steps/runtime/runtime.js";
import { coderApi } from "../../steps/kinds/coder-admin/coder-api.js";
import { connectKeycloak } from "../../steps/kinds/keycloak-client-secret/keycloak.js";
import { connectVault } from "../../steps/stores/vault/connection.js";
import { ChangeLog, readOnly } from "../../steps/core/changes.js";
import { httpJsonSource } from "../../steps/inputs/http-json.js";
import { resolveInputs } from "../../steps/inputs/index.js";
import {
  CANARY_LENGTHS,
  canary,
  describeLeak,
  encodings,
  endpointsOf,
  findLeaks,
  FRAGMENT,
  pointAt,
  type Evidence,
} from "../conformance/leak-hunt.js";
import { hostileModes, startHostileServer, type HostileMode, type HostileServer } from "../harness/hostile-server.js";

let hostile: HostileServer;
beforeAll(async () => {
  hostile = await startHostileServer();
});
afterAll(() => hostile.stop());

describe("canaries", () => {
  it("have every length asked for, never start or end with a special, and together hold every special character", () => {
    const all = CANARY_LENGTHS.map((n, i) => canary(n, i));
    expect(all.map((c) => c.length)).toEqual(CANARY_LENGTHS);
    for (const c of all) expect(c).toMatch(/^[A-Za-z0-9].*[A-Za-z0-9]$/s);
    for (const ch of "*!'()~+/=% é") expect(all.filter((c) => c.length >= 24).every((c) => c.includes(ch))).toBe(true);
  });
});

describe("findLeaks", () => {
  const secret = canary(40);
  it("finds each encoding whole and any 12-character fragment of it", () => {
    for (const [form, enc] of Object.entries(encodings(secret))) {
      expect(findLeaks({ s: secret }, [{ where: "log", text: `x ${enc} y` }]).length, form).toBeGreaterThan(0);
      expect(
        findLeaks({ s: secret }, [{ where: "log", text: `x ${enc.slice(3, 3 + FRAGMENT)} y` }]).length,
        form,
      ).toBeGreaterThan(0);
    }
  });
  it("finds nothing in masked text, nor in runs shorter than 12 characters", () => {
    expect(
      findLeaks({ s: secret }, [{ where: "log", text: `x [REDACTED] ${secret.slice(0, FRAGMENT - 1)} y` }]),
    ).toEqual([]);
  });
});

describe("endpointsOf and pointAt", () => {
  it("finds every URL and host/port of a unit and its step environment, and points one at a time at the hostile server", () => {
    const spec = {
      pattern: "reconciler",
      inputs: {
        issuer: {
          httpJson: { url: "https://kubernetes.default.svc/.well-known/openid-configuration", field: "issuer" },
        },
      },
      dependencies: [{ http: { url: "http://coder.coder.svc:8080/healthz" } }],
      ensure: {
        kind: "x",
        with: { connection: { host: "db", port: 5432 }, keyVault: { url: "https://kv.vault.reseed.test:8443" } },
      },
    };
    const env = { AZURE_AUTHORITY_HOST: "https://127.0.0.1:9999/", AZURE_CLIENT_ID: "id" };
    const found = endpointsOf(spec, env);
    expect(found.map((e) => e.where)).toEqual([
      "spec.inputs.issuer.httpJson.url",
      "spec.dependencies.0.http.url",
      "spec.ensure.with.connection",
      "spec.ensure.with.keyVault.url",
      "env AZURE_AUTHORITY_HOST",
    ]);
    const target = { port: 1111, httpsPort: 2222 };
    expect(pointAt(spec, env, found[0]!, target).spec.inputs.issuer.httpJson.url).toBe(
      "https://127.0.0.1:2222/.well-known/openid-configuration",
    );
    expect(pointAt(spec, env, found[2]!, target).spec.ensure.with.connection).toEqual({
      host: "127.0.0.1",
      port: 1111,
    });
    expect(pointAt(spec, env, found[3]!, target).spec.ensure.with.keyVault.url).toBe(
      "https://kv.vault.reseed.test:2222",
    );
    expect(pointAt(spec, env, found[4]!, target).env.AZURE_AUTHORITY_HOST).toBe("https://127.0.0.1:2222/");
    expect(spec.dependencies[0]!.http.url).toBe("http://coder.coder.svc:8080/healthz");
  });
});

/** What a step leaves when this failure ends it: the summary output, the log line, the Event note, the termination message. */
/** The httpJson input source's environment, with no Kubernetes: a call to it fails the test. */
const noKube = (redactor: Redactor) => ({
  namespace: "ns",
  kube: () => {
    throw new Error("no kube");
  },
  env: {},
  timeoutMs: 2000,
  redactor,
});

function evidenceOf(err: unknown, redactor: Redactor): Evidence[] {
  const error = asSeedError(err, ExitCode.ensureFailed, "ensure failed", "read the cause");
  const summary = summarize({ code: error.code, error }, redactor);
  return [
    { where: "summary", text: JSON.stringify(summary) },
    {
      where: "log line",
      text: redactor.mask(
        JSON.stringify({ event: "step.summary", ...summary, msg: `ensure-state failed: ${headline(summary)}` }),
      ),
    },
    { where: "Event note", text: `ensure-state: ${headline(summary)}` },
    { where: "termination message", text: terminationMessage(summary, redactor) },
  ];
}

type Client = (secret: string, redactor: Redactor, url: string) => Promise<unknown>;

const clients: Record<string, Client> = {
  // The OAuth client-credentials body is form-urlencoded: the class-3 leak.
  "Keycloak token request": (secret, redactor, url) =>
    connectKeycloak(url, { realm: "r", clientId: "reseed-extractor", clientSecret: secret }, redactor),
  "Coder first user": (secret, redactor, url) =>
    coderApi(url, 2000, redactor).createFirstUser({
      email: "owner@corp.internal",
      username: "owner",
      password: secret,
    }),
  "Coder session token": (secret, redactor, url) => coderApi(url, 2000, redactor).me(secret),
  "Vault token": async (secret, redactor, url) =>
    (
      await connectVault({ address: url, auth: { token: { env: "T" } } }, { T: secret }, redactor, readOnly, 2000)
    ).readKv("secret", "app"),
  "Vault write": async (secret, redactor, url) => {
    redactor.register(secret);
    await (
      await connectVault(
        { address: url, auth: { token: { env: "T" } } },
        { T: `tok-${secret}` },
        redactor,
        new ChangeLog().record,
        2000,
      )
    ).writeKv("secret", "app", { password: secret }, 0);
  },
  "httpJson bearerTokenFile": async (secret, redactor, url) => {
    const dir = await mkdtemp(path.join(tmpdir(), "reseed-hunt-"));
    await writeFile(path.join(dir, "token"), `${secret}\n`);
    const r = await httpJsonSource.resolve(
      { httpJson: { url, field: "issuer", bearerTokenFile: path.join(dir, "token") } },
      noKube(redactor),
    );
    if ("absent" in r) throw new Error(r.absent);
    return r.value;
  },
};

describe.each(Object.keys(clients))("%s against the hostile server", (name) => {
  it.each(hostileModes.map((m, i) => [m, CANARY_LENGTHS[i % CANARY_LENGTHS.length]!] as [HostileMode, number]))(
    "mode %s, a %i-character canary: no form or fragment in the evidence",
    async (mode, length) => {
      hostile.mode = mode;
      const secret = canary(length, length);
      const redactor = new Redactor();
      // A step registers its inputs before using them; clients register what they read themselves.
      if (name !== "httpJson bearerTokenFile") redactor.register(secret);
      const before = hostile.requests.length;
      let evidence: Evidence[];
      try {
        const value = await clients[name]!(secret, redactor, hostile.url);
        // A success (json-ok) publishes what it read: that must hold no secret either.
        evidence = [{ where: "value read", text: redactor.mask(JSON.stringify(value ?? null)) }];
      } catch (err) {
        evidence = evidenceOf(err, redactor);
      }
      expect(hostile.requests.length).toBeGreaterThan(before);
      const secrets: Record<string, string> = { canary: secret };
      const leaks = findLeaks(secrets, evidence);
      expect(leaks.map(describeLeak)).toEqual([]);
    },
  );
});

describe("the hunt catches a leak", () => {
  it("reports the echo of a credential that was never registered (as a token read from a file was, before)", async () => {
    hostile.mode = "json-error";
    const secret = canary(33, 3);
    const redactor = new Redactor(); // nothing registered: the planted leak
    let evidence: Evidence[] = [];
    try {
      await coderApi(hostile.url, 2000, redactor).createFirstUser({
        email: "owner@corp.internal",
        username: "owner",
        password: secret,
      });
    } catch (err) {
      evidence = evidenceOf(err, redactor);
    }
    const leaks = findLeaks({ canary: secret }, evidence);
    expect(leaks.length).toBeGreaterThan(0);
    expect(leaks.map((l) => l.where)).toContain("summary");
  });

  it("refuses to publish a fact that holds a credential of the run (the class-4 leak: an echoed bearer token as a fact)", async () => {
    hostile.mode = "json-ok";
    const dir = await mkdtemp(path.join(tmpdir(), "reseed-hunt-"));
    const secret = canary(64, 5);
    await writeFile(path.join(dir, "token"), secret);
    const redactor = new Redactor();
    const r = await resolveInputs(
      { issuer: { httpJson: { url: hostile.url, field: "issuer", bearerTokenFile: path.join(dir, "token") } } },
      {
        env: noKube(redactor),
        redactor,
        managed: true,
      },
    );
    expect(r.facts).toEqual({});
    expect(r.problems.map((p) => p.subject)).toEqual(["issuer"]);
    expect(
      findLeaks({ canary: secret }, [{ where: "problems", text: redactor.mask(JSON.stringify(r.problems)) }]),
    ).toEqual([]);
  });
});
