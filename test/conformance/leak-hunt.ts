// The leak hunt: every network endpoint a unit talks to is pointed, in turn, at the hostile
// echo server (test/harness/hostile-server.ts), with canary secrets that encode differently
// in every scheme, and everything the run leaves is scanned for every encoded form and every
// fragment of 12 characters or more. The endpoints are found in the unit itself (every URL
// and host/port in its spec, every URL in the step environment), so a kind registered
// tomorrow is hunted without anyone writing a hunt case for it.
//
// The scanner below is written independently of steps/core/redact.ts on purpose: a form the
// redactor forgot would be forgotten by a scanner that reused its list.
import { randomBytes } from "node:crypto";

/** Fragments this long are never allowed out (shorter ones cannot be told from ordinary text). */
export const FRAGMENT = 12;

/** Secret lengths the hunt uses, from the shortest a step accepts to a long token. */
export const CANARY_LENGTHS = [4, 5, 11, 12, 13, 20, 33, 64, 100, 128, 200, 256];

// Each of these encodes differently in base64, hex, URL, form and JSON encodings; the space
// and é too. A canary never starts or ends with one (token files are trimmed).
const SPECIALS = [..."*!'()~+/=% é"];

/** A canary of exactly `length` characters, with as many of the specials as fit, starting at `offset` among them. */
export function canary(length: number, offset = 0): string {
  const alnum = randomBytes(length * 2)
    .toString("base64")
    .replace(/[^A-Za-z0-9]/g, "")
    .padEnd(length, "q");
  const out: string[] = [];
  let special = offset;
  const middle = length - 2;
  // Spread the specials when there is room (so fragments of any 12 characters mix them with
  // letters), pack them when there is not.
  const spread = middle >= 2 * SPECIALS.length;
  for (let i = 0; i < length; i++) {
    const edge = i === 0 || i === length - 1;
    const useSpecial =
      !edge && (spread ? i % 2 === 1 && special < offset + SPECIALS.length : special < offset + SPECIALS.length);
    out.push(useSpecial ? SPECIALS[special++ % SPECIALS.length]! : alnum[i]!);
  }
  return out.join("");
}

const hex4 = (c: string, upper: boolean) => {
  const h = c.charCodeAt(0).toString(16).padStart(4, "0");
  return `\\u${upper ? h.toUpperCase() : h}`;
};

/** Every encoding the hunt looks for, by name. */
export function encodings(secret: string): Record<string, string> {
  const b = Buffer.from(secret, "utf8");
  const json = JSON.stringify(secret).slice(1, -1);
  const html = (apos: string) =>
    secret
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, apos);
  const out: Record<string, string> = {
    raw: secret,
    base64: b.toString("base64"),
    "base64 unpadded": b.toString("base64").replace(/=+$/, ""),
    base64url: b.toString("base64url"),
    hex: b.toString("hex"),
    "hex upper-case": b.toString("hex").toUpperCase(),
    encodeURIComponent: encodeURIComponent(secret),
    "percent-encoded, lower-case": encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (p) => p.toLowerCase()),
    encodeURI: encodeURI(secret),
    "form-urlencoded": new URLSearchParams({ x: secret }).toString().slice(2),
    "JSON-escaped": json,
    "JSON \\u-escaped": json.replace(/[^\x20-\x7e]/g, (c) => hex4(c, false)),
    "JSON \\U-escaped": json.replace(/[^\x20-\x7e]/g, (c) => hex4(c, true)),
    "JSON as Go escapes it": json.replace(/[^\x20-\x7e]|[<>&]/g, (c) => hex4(c, false)),
    "HTML-escaped": html("&#39;"),
    "HTML-escaped (&#x27;)": html("&#x27;"),
    "UTF-8 read as Latin-1": b.toString("latin1"),
  };
  // Inside a longer base64 value (Basic auth "user:secret", a Secret's data): the characters
  // that encode only the secret's bytes, for each of the three alignments.
  for (const lead of [1, 2]) {
    const enc = Buffer.concat([Buffer.alloc(lead, 0x41), b]).toString("base64");
    const inner = enc.slice(4, Math.floor((lead + b.length) / 3) * 4);
    out[`base64 inside a longer value (+${lead})`] = inner;
    out[`base64url inside a longer value (+${lead})`] = inner.replace(/\+/g, "-").replace(/\//g, "_");
  }
  return out;
}

export interface Leak {
  where: string;
  secret: string;
  form: string;
  found: string;
  context: string;
}

export interface Evidence {
  /** e.g. "ensure-state stdout", "output summary", "Event …", "ConfigMap ns/name". */
  where: string;
  text: string;
}

/** Every registered form, whole, and every FRAGMENT-character run of one, in any piece of evidence. */
export function findLeaks(secrets: Record<string, string>, evidence: Evidence[]): Leak[] {
  // window → what it is a window of
  const windows = new Map<string, { secret: string; form: string }>();
  const whole: { secret: string; form: string; value: string }[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    for (const [form, enc] of Object.entries(encodings(value))) {
      if (enc.length < FRAGMENT) {
        if (enc.length >= 4) whole.push({ secret: name, form, value: enc });
        continue;
      }
      for (let i = 0; i + FRAGMENT <= enc.length; i++)
        if (!windows.has(enc.slice(i, i + FRAGMENT))) windows.set(enc.slice(i, i + FRAGMENT), { secret: name, form });
    }
  }
  const leaks: Leak[] = [];
  for (const e of evidence) {
    const seen = new Set<string>();
    const report = (at: number, len: number, what: { secret: string; form: string }) => {
      const key = `${what.secret}|${what.form}`;
      if (seen.has(key)) return;
      seen.add(key);
      leaks.push({
        where: e.where,
        ...what,
        found: e.text.slice(at, at + len),
        context: e.text.slice(Math.max(0, at - 40), at + len + 40),
      });
    };
    for (const w of whole) {
      const at = e.text.indexOf(w.value);
      if (at !== -1) report(at, w.value.length, w);
    }
    for (let i = 0; i + FRAGMENT <= e.text.length; i++) {
      const hit = windows.get(e.text.slice(i, i + FRAGMENT));
      if (hit) report(i, FRAGMENT, hit);
    }
  }
  return leaks;
}

export const describeLeak = (l: Leak) =>
  `${l.where}: ${l.secret} as ${l.form}: ${JSON.stringify(l.found)} in …${JSON.stringify(l.context)}…`;

/** A place in a unit or a step environment that names a server the step connects to. */
export interface Endpoint {
  /** "spec.ensure.with.url", "spec.dependencies.0.http.url", "env AZURE_AUTHORITY_HOST", … */
  where: string;
  kind: "url" | "host-port";
  path: (string | number)[];
}

const isUrl = (v: unknown): v is string => typeof v === "string" && /^https?:\/\/[^\s]+$/i.test(v);

/** Every network endpoint of a unit spec and its step environment. */
export function endpointsOf(spec: unknown, env: Record<string, string> = {}): Endpoint[] {
  const out: Endpoint[] = [];
  const walk = (v: unknown, path: (string | number)[]) => {
    if (isUrl(v)) out.push({ where: ["spec", ...path].join("."), kind: "url", path });
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, [...path, i]));
    else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (typeof o.host === "string" && typeof o.port === "number")
        out.push({ where: ["spec", ...path].join("."), kind: "host-port", path });
      for (const [k, x] of Object.entries(o)) walk(x, [...path, k]);
    }
  };
  walk(spec, []);
  for (const [k, v] of Object.entries(env))
    if (isUrl(v)) out.push({ where: `env ${k}`, kind: "url", path: ["env", k] });
  return out;
}

export interface HostileTarget {
  port: number;
  httpsPort?: number | undefined;
}

/** The URL with its scheme kept and its server replaced by the hostile one (a *.reseed.test name stays: it resolves to loopback). */
export function hostileUrl(url: string, target: HostileTarget): string {
  const u = new URL(url);
  const tls = u.protocol === "https:";
  if (tls && !target.httpsPort)
    throw new Error(`${url} needs the hostile server over TLS: start it with a certificate`);
  if (!u.hostname.endsWith(".reseed.test")) u.hostname = "127.0.0.1";
  u.port = String(tls ? target.httpsPort : target.port);
  return u.toString().replace(/\/$/, url.endsWith("/") ? "/" : "");
}

/** A copy of spec and env with one endpoint pointed at the hostile server. */
export function pointAt<S>(
  spec: S,
  env: Record<string, string>,
  endpoint: Endpoint,
  target: HostileTarget,
): { spec: S; env: Record<string, string> } {
  const copy = structuredClone(spec) as Record<string | number, unknown>;
  const envCopy = { ...env };
  if (endpoint.path[0] === "env" && endpoint.where.startsWith("env ")) {
    const name = String(endpoint.path[1]);
    envCopy[name] = hostileUrl(envCopy[name]!, target);
    return { spec: copy as S, env: envCopy };
  }
  let parent: Record<string | number, unknown> = copy;
  for (const p of endpoint.path.slice(0, -1)) parent = parent[p] as Record<string | number, unknown>;
  const last = endpoint.path.at(-1)!;
  if (endpoint.kind === "url") parent[last] = hostileUrl(parent[last] as string, target);
  else parent[last] = { ...(parent[last] as object), host: "127.0.0.1", port: target.port };
  return { spec: copy as S, env: envCopy };
}
