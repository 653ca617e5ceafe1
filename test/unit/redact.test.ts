import { describe, expect, it } from "vitest";
import { describeError, httpAnswer } from "../../steps/core/errors.js";
import { egress, MASK, MIN_FRAGMENT, Redactor } from "../../steps/core/redact.js";
import { createLogger } from "../../steps/core/log.js";
import { canary as hunted, encodings } from "../conformance/leak-hunt.js";

const canary = "canary-Zq8x!p@ss/w0rd";

describe("Redactor", () => {
  it("masks a secret in every encoding it can travel in", () => {
    const r = new Redactor();
    r.register(canary);
    const b64 = Buffer.from(canary).toString("base64");
    const text = [
      canary,
      b64,
      b64.replace(/=+$/, ""),
      Buffer.from(canary).toString("base64url"),
      encodeURIComponent(canary),
      JSON.stringify({ p: canary }),
    ].join(" | ");
    const masked = r.mask(text);
    expect(masked).not.toContain(canary);
    expect(masked).not.toContain(b64.replace(/=+$/, ""));
    expect(masked).not.toContain(encodeURIComponent(canary));
    expect(masked).toContain("[REDACTED]");
  });

  it("leaves text alone until something is registered, and ignores values too short to mask safely", () => {
    const r = new Redactor();
    expect(r.mask("nothing here")).toBe("nothing here");
    r.register("ab");
    expect(r.mask("about a tab")).toBe("about a tab");
  });

  it("masks secrets inside log lines, including error objects with request bodies", () => {
    const r = new Redactor();
    r.register(canary);
    const lines: string[] = [];
    const log = createLogger({ redactor: r, phase: "test", sink: { write: (l) => lines.push(l) }, pretty: false });
    const err = Object.assign(
      new Error(`request failed: body={"data":{"password":"${Buffer.from(canary).toString("base64")}"}}`),
      { body: canary },
    );
    log.error({ err, extra: { nested: [canary] } }, `oops ${canary}`);
    expect(lines.join("")).not.toContain(canary);
    expect(lines.join("")).not.toContain(Buffer.from(canary).toString("base64"));
    expect(JSON.parse(lines[0]!).msg).toBe("oops [REDACTED]");
  });
});

describe("Redactor matching", () => {
  it("masks the longest registered value where two start at the same place, and every occurrence", () => {
    const r = new Redactor();
    r.register("abcd1234");
    r.register("abcd12345678");
    expect(r.mask("x abcd12345678 y abcd1234 z abcd12345678")).toBe("x [REDACTED] y [REDACTED] z [REDACTED]");
  });

  it("masks values that overlap or sit at the very start and end of the text", () => {
    const r = new Redactor();
    r.register("s3cr3t-one");
    r.register("t-one-two");
    expect(r.mask("s3cr3t-one")).toBe("[REDACTED]");
    expect(r.mask("s3cr3t-one-two")).toBe("[REDACTED]-two");
    expect(r.mask("pre t-one-two")).toBe("pre [REDACTED]");
  });

  it("registering the same value twice adds nothing", () => {
    const r = new Redactor();
    r.register(canary);
    const size = r.size;
    r.register(canary);
    expect(r.size).toBe(size);
  });
});

// Characters that encode differently in every scheme, a space and a non-ASCII letter.
const hostile = "Hx*!'()~+/=% é-0123456789-<&>\"-tail";

describe("Redactor forms and fragments", () => {
  // The leak hunt's own list of encodings (not the redactor's), so the two cannot drift apart.
  const forms = encodings(hostile);

  it.each(Object.entries(forms))("masks the %s form, and leaves no 12-character run of it", (_name, form) => {
    const r = new Redactor();
    r.register(hostile);
    const masked = r.mask(`before ${form} after`);
    expect(masked).toContain("[REDACTED]");
    expect(masked.startsWith("before ")).toBe(true);
    for (let i = 0; i + MIN_FRAGMENT <= form.length; i++) expect(masked).not.toContain(form.slice(i, i + MIN_FRAGMENT));
  });

  it.each(["client:", "cl:", "c:"])(
    "masks a Basic auth header %s<secret>, whatever the secret's alignment in the base64",
    (user) => {
      const r = new Redactor();
      r.register(hostile);
      const header = `Basic ${Buffer.from(`${user}${hostile}`).toString("base64")}`;
      // Only the groups that mix in the user name before, or the padding after, stay.
      expect(r.mask(header)).toMatch(/^Basic [A-Za-z0-9+/]{4,12}\[REDACTED\][A-Za-z0-9+/=]{0,4}$/);
    },
  );

  it("masks every fragment of at least 12 characters a server may echo, wherever it is cut", () => {
    const r = new Redactor();
    r.register(hostile);
    for (let start = 0; start + MIN_FRAGMENT <= hostile.length; start++) {
      for (const len of [MIN_FRAGMENT, MIN_FRAGMENT + 1, hostile.length - start]) {
        if (start + len > hostile.length) continue;
        const fragment = hostile.slice(start, start + len);
        expect(r.mask(`value ⟨${fragment}…⟩ is too long`)).toBe("value ⟨[REDACTED]…⟩ is too long");
      }
    }
  });

  it("leaves runs shorter than 12 characters of a long secret alone, and masks short secrets whole", () => {
    const r = new Redactor();
    r.register("abcdefghijklmnopqrstuvwxyz");
    r.register("p4ss");
    expect(r.mask("abcdefghijk")).toBe("abcdefghijk");
    expect(r.mask("abcdefghijkl")).toBe("[REDACTED]");
    expect(r.mask("my p4ss and p4s")).toBe("my [REDACTED] and p4s");
  });

  it("masks secrets of every length from 4 to 256 among 2,000 registered values", () => {
    const r = new Redactor();
    const secrets = Array.from({ length: 2000 }, (_, i) =>
      `${hostile.slice(0, 4 + (i % 20))}${i.toString(36)}`.slice(0, 4 + (i % 253)),
    );
    for (const s of secrets) r.register(s);
    const long = `${hostile}`.repeat(8).slice(0, 256);
    r.register(long);
    expect(r.mask(`x ${long} y`)).toBe("x [REDACTED] y");
    expect(r.mask(`x ${Buffer.from(long).toString("base64")} y`)).toBe("x [REDACTED] y");
  });
});

describe("a log line masked after serialisation stays JSON", () => {
  // A server that quotes a secret back in its escaped forms (\u-escapes, backslashes,
  // quotes) puts escapes next to the secret in the line: the mask must not cut one in two.
  it("for every encoding of canaries with quotes, backslashes and non-ASCII, next to escapes of every kind", () => {
    const secrets = [4, 13, 33, 100].map((n) => hunted(n));
    const r = new Redactor();
    for (const s of secrets) r.register(s);
    const lines: string[] = [];
    const log = createLogger({ redactor: r, phase: "test", sink: { write: (l) => lines.push(l) }, pretty: false });
    const around = ['"', "\\", "\\u00e9", "\\n", "é", "\\", "\\\\u0041"];
    for (const s of secrets)
      for (const [form, value] of Object.entries(encodings(s)))
        // (A short secret's base64 inside a longer value can be empty: nothing to mask there.)
        if (value) for (const a of around) log.error({ form }, `${a}${value}${a}|${a}${value}`);
    expect(lines.length).toBeGreaterThan(100);
    for (const line of lines) {
      const parsed = JSON.parse(line) as { msg: string };
      expect(parsed.msg).toContain(MASK);
      for (const s of secrets) expect(line).not.toContain(s);
    }
  });
});

describe("egress: mask first, then bound", () => {
  it("masks a secret that a cut would have split, and keeps the bound", () => {
    const r = new Redactor();
    const secret = "s3cr3t-value-that-straddles-the-cut";
    r.register(secret);
    const text = `${"x".repeat(40)} ${secret} ${"y".repeat(40)}`;
    const out = egress(r, text, 50);
    expect(out.length).toBeLessThanOrEqual(50);
    expect(out).toBe(`${"x".repeat(40)} [REDACTED]`.slice(0, 49) + "…");
    // Cut first, then masked, the part before the cut is too short to match: it would leak.
    expect(r.mask(text.slice(0, 48))).toContain("s3cr3t");
  });

  it("takes the first line only after masking: a secret with a line break is masked whole", () => {
    const r = new Redactor();
    const secret = "line-one-of-it\nline-two-of-it";
    r.register(secret);
    expect(egress(r, `key: ${secret} end`)).toBe("key: [REDACTED] end");
  });

  it("describes an HTTP answer by status, code and masked message, and describeError keeps the whole message", () => {
    const r = new Redactor();
    const secret = "client-secret-echoed-by-the-server";
    r.register(secret);
    const answer = httpAnswer(r, 400, `invalid_${secret}`, `${"m".repeat(280)} ${secret} ${"n".repeat(100)}`);
    expect(answer).not.toContain("client-secret-echoed");
    expect(answer.startsWith("HTTP 400 invalid_[REDACTED]: ")).toBe(true);
    expect(answer.length).toBeLessThan(400);
    const long = `${"z".repeat(600)} ${secret}`;
    expect(describeError(new Error(long))).toBe(long);
  });

  it("describeError names a network failure that fetch hides in its cause (the fault matrix's lost kube-apiserver)", () => {
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:6443"), { code: "ECONNREFUSED" });
    expect(describeError(new TypeError("fetch failed", { cause: refused }))).toBe(
      "fetch failed: connect ECONNREFUSED 127.0.0.1:6443",
    );
    const closed = Object.assign(new Error("other side closed"), { code: "UND_ERR_SOCKET" });
    expect(describeError(new TypeError("fetch failed", { cause: closed }))).toBe(
      "fetch failed: UND_ERR_SOCKET other side closed",
    );
  });
});

describe("the step's own Kubernetes credential", () => {
  it("is registered before it is sent, from a kubeconfig token", async () => {
    const { mkdtemp, writeFile } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const path = await import("node:path");
    const { lazyKube } = await import("../../steps/runtime/runtime.js");
    const dir = await mkdtemp(path.join(tmpdir(), "reseed-kc-"));
    const file = path.join(dir, "kubeconfig");
    await writeFile(
      file,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server: "https://127.0.0.1:1" } }],
        users: [{ name: "u", user: { token: "sa-token-value-for-the-test" } }],
        contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
        "current-context": "x",
      }),
    );
    const registered: string[] = [];
    const kube = lazyKube((c) => registered.push(c), file);
    kube();
    expect(registered).toEqual([]);
    // Port 1 refuses the connection: the token was registered before the request was made.
    await expect(kube().core.readNamespacedSecret({ name: "s", namespace: "n" })).rejects.toThrow(
      "request to the Kubernetes API failed",
    );
    expect(registered).toEqual(["sa-token-value-for-the-test"]);
  });
});
