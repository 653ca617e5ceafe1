// A hostile loopback HTTP server for the leak hunt: whatever a step sends it, it sends back.
// Real servers and proxies do this (validation errors that quote a field, WAF pages,
// misrouted ingress, debug echo endpoints); the hunt checks that nothing a step then writes
// anywhere carries the credentials it sent. Plain node:http and a raw socket mode, no
// dependencies: it must behave exactly as written, including badly.
import http from "node:http";
import https from "node:https";
import type { AddressInfo, Socket } from "node:net";

/** How the echo comes back. Each mode puts the request (line, headers, body) somewhere else. */
export const hostileModes = [
  /** 400, text/plain: request line, headers and body, as received. */
  "plain",
  /** 400, JSON with the echo in the fields clients read, on one line (error, error_description, message, code) and as it came (detail, errors[]). */
  "json-error",
  /** 400, an Azure-style error document: {"error": {"code", "message"}} holding the echo. */
  "azure-error",
  /** 200, JSON document whose every field a client might read (issuer, value, access_token, …) holds the echo (some on one line). */
  "json-ok",
  /** 403, an HTML error page with the echo HTML-escaped, as a WAF answers. */
  "html",
  /** 401 with the echo (headers only) in a response header, body empty. */
  "header",
  /** 400 whose status text is the echo. */
  "status-text",
  /** 302 to a Location that carries the echo in its query. */
  "redirect",
  /** 500, the echo padded by 1–3 bytes and repeated in reverse order of parts (body, headers, line). */
  "padded",
  /** Headers and half the echo, then the connection is destroyed. */
  "cut",
] as const;
export type HostileMode = (typeof hostileModes)[number];

export interface HostileRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface HostileServer {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  /** The same server over TLS (when started with a certificate): for clients that send credentials only over https. */
  httpsPort?: number;
  mode: HostileMode;
  /** Every request received since the server started. */
  requests: HostileRequest[];
  /** Connections accepted, whether or not they spoke HTTP (a PostgreSQL client does not): the hunt checks each endpoint was reached. */
  readonly connections: number;
  stop(): Promise<void>;
}

const fieldNames = [
  "error",
  "error_description",
  "message",
  "detail",
  "code",
  "issuer",
  "value",
  "id",
  "access_token",
  "session_token",
  "key",
  "token",
  "client_token",
  "jwks_uri",
];

/** The request as text: line, headers, body; `all` as it came, `flat` on one line with the body first (clients keep one line of an error, and cap it). */
function echoOf(req: HostileRequest): { line: string; headers: string; body: string; all: string; flat: string } {
  const line = `${req.method} ${req.url} HTTP/1.1`;
  const pairs = Object.entries(req.headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : (v ?? "")}`);
  const headers = pairs.join("\n");
  // A form body's fields last to first: the field a client sends last (a client_secret
  // after grant_type and client_id) comes first, before any cap a client puts on an error code.
  const body = /^[^{[]*=/.test(req.body) ? req.body.split("&").reverse().join("&") : req.body;
  return {
    line,
    headers,
    body: req.body,
    all: `${line}\n${headers}\n\n${req.body}`,
    flat: `${body.replace(/\n/g, " ")} | ${pairs.join("; ")} | ${line}`,
  };
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

/**
 * A header value or status text as many servers write one: line breaks folded to spaces,
 * the text sent as UTF-8 bytes, which HTTP clients read back as Latin-1.
 */
const headerSafe = (s: string) => Buffer.from(s.replace(/[\r\n\0]/g, " "), "utf8").toString("latin1");

function answer(mode: HostileMode, req: HostileRequest, res: http.ServerResponse, socket: Socket): void {
  const e = echoOf(req);
  switch (mode) {
    case "plain":
      res.writeHead(400, { "content-type": "text/plain; charset=utf-8" }).end(e.all);
      return;
    case "json-error":
      res.writeHead(400, { "content-type": "application/json" }).end(
        JSON.stringify({
          error: e.flat,
          error_description: e.flat,
          message: `invalid request: ${e.flat}`,
          detail: e.all,
          code: e.body,
          // Vault's framing: "1 error occurred:\n\t* …"
          errors: [e.all, `1 error occurred:\n\t* ${e.body}\n\n`],
        }),
      );
      return;
    case "azure-error":
      res.writeHead(400, { "content-type": "application/json" }).end(
        JSON.stringify({
          error: { code: e.body.slice(0, 200) || "BadRequest", message: `The request is invalid: ${e.flat}` },
        }),
      );
      return;
    case "json-ok": {
      const doc: Record<string, unknown> = Object.fromEntries(fieldNames.map((f) => [f, e.all]));
      for (const f of ["issuer", "message", "error"]) doc[f] = e.flat;
      doc.data = { data: { value: e.flat }, metadata: { version: 1 }, keys: [e.all] };
      doc.users = [];
      doc.keys = [{ kid: e.all }];
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(doc));
      return;
    }
    case "html":
      res
        .writeHead(403, { "content-type": "text/html; charset=utf-8" })
        .end(
          `<!doctype html><html><head><title>403 Forbidden</title></head><body><h1>Request blocked</h1><pre>${escapeHtml(e.all)}</pre></body></html>`,
        );
      return;
    case "header":
      res
        .writeHead(401, {
          "www-authenticate": `Bearer error="${headerSafe(e.headers)}"`,
          "x-echo": headerSafe(`${e.line} ${e.headers}`),
        })
        .end();
      return;
    case "status-text":
      res.writeHead(400, headerSafe(`${e.line} ${e.headers} ${e.body}`), { "content-type": "text/plain" }).end(e.body);
      return;
    case "redirect":
      res
        .writeHead(302, {
          location: `http://127.0.0.1:1/echo?${new URLSearchParams({ line: e.line, headers: e.headers, body: e.body })}`,
        })
        .end(e.all);
      return;
    case "padded": {
      const pad = " ".repeat(1 + (req.body.length % 3));
      res
        .writeHead(500, { "content-type": "text/plain" })
        .end(`${pad}${e.body}${pad}\n${e.headers}\n${pad}${e.line}\n${JSON.stringify(e.all)}`);
      return;
    }
    case "cut": {
      const half = Buffer.from(e.all).subarray(0, Math.max(1, Math.floor(Buffer.byteLength(e.all) / 2)));
      res.writeHead(400, { "content-type": "text/plain", "content-length": String(Buffer.byteLength(e.all)) });
      res.write(half, () => socket.destroy());
      return;
    }
  }
}

/** Starts the server on 127.0.0.1 with a port of its own (and a TLS port with `tls`); set `mode` between runs. */
export async function startHostileServer(
  opts: { mode?: HostileMode; tls?: { cert: string; key: string } } = {},
): Promise<HostileServer> {
  const requests: HostileRequest[] = [];
  const state = { mode: opts.mode ?? ("plain" as HostileMode), connections: 0 };
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: HostileRequest = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(r);
      answer(state.mode, r, res, req.socket);
    });
  };
  const servers: http.Server[] = [http.createServer(handler)];
  if (opts.tls) servers.push(https.createServer({ cert: opts.tls.cert, key: opts.tls.key }, handler));
  const ports: number[] = [];
  for (const server of servers) {
    server.on("connection", () => state.connections++);
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", resolve);
    });
    ports.push((server.address() as AddressInfo).port);
  }
  return {
    url: `http://127.0.0.1:${ports[0]}`,
    port: ports[0]!,
    ...(ports[1] ? { httpsPort: ports[1] } : {}),
    get mode() {
      return state.mode;
    },
    set mode(m: HostileMode) {
      state.mode = m;
    },
    get connections() {
      return state.connections;
    },
    requests,
    stop: async () => {
      await Promise.all(
        servers.map(
          (server) =>
            new Promise<void>((resolve) => {
              server.closeAllConnections();
              server.close(() => resolve());
            }),
        ),
      );
    },
  };
}
