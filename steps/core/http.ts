import { readFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { Redactor } from "./redact.js";

export interface HttpGetOptions {
  timeoutMs: number;
  caFile?: string | undefined;
  /** A token read from a file and sent as Bearer: registered with the redactor before it is sent. */
  bearer?: { tokenFile: string; redactor: Redactor } | undefined;
}

export interface HttpResponse {
  status: number;
  body: string;
}

// node:https rather than fetch: fetch cannot take a per-request CA, and in-cluster calls
// must trust the service-account CA without touching the process-wide trust store.
export async function httpGet(url: string, opts: HttpGetOptions): Promise<HttpResponse> {
  const target = new URL(url);
  const ca = opts.caFile ? await readFile(opts.caFile) : undefined;
  const token = opts.bearer ? (await readFile(opts.bearer.tokenFile, "utf8")).trim() : undefined;
  // Servers and proxies echo the Authorization header back (in an error, in a JSON field
  // this very input may read): the token is masked before it ever leaves.
  if (token) opts.bearer!.redactor.register(token);
  const client = target.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(
      target,
      {
        timeout: opts.timeoutMs,
        headers: { accept: "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        ...(ca ? { ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no response within ${opts.timeoutMs} ms`)));
    req.on("error", reject);
  });
}

/** Follows a dot path (`issuer`, `keys.0.kid`) into a parsed JSON document. */
export function pickField(doc: unknown, path: string): unknown {
  let cur: unknown = doc;
  for (const part of path.split(".")) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}
