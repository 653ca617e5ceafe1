import { mkdtemp, readFile, rm } from "node:fs/promises";
import * as http from "node:http";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import * as https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makePki } from "../harness/pki.js";

/** A request as the proxy received it, before it decides what to do with it. */
export interface Seen {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
}

/**
 * What happens to an intercepted request once its hook has run: passed on to the real
 * server, or cut off the way a client sees a server die mid-request (the socket reset).
 */
export type Verdict = "forward" | "reset";

export interface FaultProxy {
  /** https://127.0.0.1:<port> (http:// for a plain-http upstream): point the step here instead of at the real server. */
  url: string;
  /** The CA that signed the proxy's serving certificate: what the step must trust (unused for plain http). */
  caFile: string;
  /** Every request, as "METHOD /path", in arrival order. */
  seen: string[];
  /**
   * Runs `hook` on the first request that `match`es, before it reaches the server (the
   * moment between a step's read and its write), then applies its verdict. One shot.
   */
  intercept(match: (req: Seen) => boolean, hook: (req: Seen) => Promise<Verdict>): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A proxy in front of a real server, for fault injection at an exact moment: it terminates
 * TLS with a certificate of its own CA, runs a test's hook on a chosen request (change the
 * object, stop or restart the server, revoke the token, cut the connection), then forwards
 * the request unchanged (credentials included) to the server, which answers for real. A
 * plain-http upstream (Keycloak in the tests) gets a plain-http proxy, as the step reaches
 * that server without TLS; `upstreamCaFile` is for an https upstream only.
 */
export async function startFaultProxy(opts: { upstream: string; upstreamCaFile?: string }): Promise<FaultProxy> {
  const upstream = new URL(opts.upstream);
  const tls = upstream.protocol === "https:";
  if (tls && !opts.upstreamCaFile) throw new Error(`the fault proxy needs upstreamCaFile for ${opts.upstream}`);
  const dir = await mkdtemp(join(tmpdir(), "reseed-fault-proxy-"));
  const pki = await makePki(dir);
  const [cert, key, upstreamCa] = await Promise.all([
    readFile(pki.servingCert),
    readFile(pki.servingKey),
    tls ? readFile(opts.upstreamCaFile!) : undefined,
  ]);
  const seen: string[] = [];
  const hooks: Array<{
    match: (req: Seen) => boolean;
    hook: (req: Seen) => Promise<Verdict>;
    done: (err?: unknown) => void;
  }> = [];

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    const at: Seen = { method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers };
    seen.push(`${at.method} ${at.path}`);
    const i = hooks.findIndex((h) => h.match(at));
    if (i >= 0) {
      const [h] = hooks.splice(i, 1);
      let verdict: Verdict;
      try {
        verdict = await h!.hook(at);
        h!.done();
      } catch (err) {
        h!.done(err);
        verdict = "reset";
      }
      if (verdict === "reset") {
        req.socket.destroy();
        return;
      }
    }
    const out = (tls ? https.request : http.request)(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: at.method,
        path: at.path,
        headers: { ...req.headers, host: upstream.host },
        ...(upstreamCa ? { ca: upstreamCa } : {}),
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    // The server is gone: the client sees what it would see talking to it directly.
    out.on("error", () => req.socket.destroy());
    out.end(body);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => req.socket.destroy());
  };
  const server: http.Server = tls ? https.createServer({ cert, key }, onRequest) : http.createServer(onRequest);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  server.unref();
  const port = (server.address() as { port: number }).port;

  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    caFile: pki.caCert,
    seen,
    intercept(match, hook) {
      return new Promise<void>((resolve, reject) => {
        hooks.push({ match, hook, done: (err) => (err === undefined ? resolve() : reject(err as Error)) });
      });
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
