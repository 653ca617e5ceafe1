// A hostile loopback HTTP server for the leak hunt: whatever a step sends it, it sends back.
// Real servers and proxies do this (validation errors that quote a field, WAF pages,
// misrouted ingress, debug echo endpoints); the hunt checks that nothing a step then writes
// anywhere carries the credentials it sent. Plain node:http and a raw socket mode, no
// dependencies: it must behave exactly as written, including badly.
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** How the echo comes back. Each mode puts the request (line, headers, body) somewhere else. */
export const hostileModes = [
  /** 400, text/plain: request line, headers and body, as received. */
  "plain",
  /** 400, JSON with the echo in the fields clients read: error, error_description, message, errors[], detail, code. */
  "json-error",
  /** 400, an Azure-style error document: {"error": {"code", "message"}} holding the echo. */
  "azure-error",
  /** 200, JSON document whose every field a client might read (issuer, value, access_token, …) holds the echo. */
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
  url: string;
  host: string;
  port: number;
  mode: HostileMode;
  /** Every request received since the server started (the hunt checks each endpoint was reached). */
  requests: HostileRequest[];
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

function echoOf(req: HostileRequest): { line: string; headers: string; body: string; all: string } {
  const line = `${req.method} ${req.url} HTTP/1.1`;
  const headers = Object.entries(req.headers)
    .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(", ") : (v ?? "")}`)
    .join("\n");
  return { line, headers, body: req.body, all: `${line}\n${headers}\n\n${req.body}` };
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

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
          error: e.body || e.all,
          error_description: e.all,
          message: `request ${e.line} was refused: ${e.headers} ${e.body}`,
          detail: e.headers,
          code: e.body,
          // Vault's framing: "1 error occurred:\n\t* …"
          errors: [e.all, `1 error occurred:\n\t* ${e.body}\n\n`],
        }),
      );
      return;
    case "azure-error":
      res.writeHead(400, { "content-type": "application/json" }).end(JSON.stringify({ error: { code: e.body.slice(0, 200) || "BadRequest", message: e.all } }));
      return;
    case "json-ok": {
      const doc: Record<string, unknown> = Object.fromEntries(fieldNames.map((f) => [f, e.all]));
      doc.data = { data: { value: e.all }, metadata: { version: 1 }, keys: [e.all] };
      doc.users = [];
      doc.keys = [{ kid: e.all }];
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(doc));
      return;
    }
    case "html":
      res
        .writeHead(403, { "content-type": "text/html; charset=utf-8" })
        .end(`<!doctype html><html><head><title>403 Forbidden</title></head><body><h1>Request blocked</h1><pre>${escapeHtml(e.all)}</pre></body></html>`);
      return;
    case "header":
      res.writeHead(401, { "www-authenticate": `Bearer error="${headerSafe(e.headers)}"`, "x-echo": headerSafe(`${e.line} ${e.headers}`) }).end();
      return;
    case "status-text":
      res.writeHead(400, headerSafe(`${e.line} ${e.headers} ${e.body}`), { "content-type": "text/plain" }).end(e.body);
      return;
    case "redirect":
      res.writeHead(302, { location: `http://127.0.0.1:1/echo?${new URLSearchParams({ line: e.line, headers: e.headers, body: e.body })}` }).end(e.all);
      return;
    case "padded": {
      const pad = " ".repeat(1 + (req.body.length % 3));
      res.writeHead(500, { "content-type": "text/plain" }).end(`${pad}${e.body}${pad}\n${e.headers}\n${pad}${e.line}\n${JSON.stringify(e.all)}`);
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

/** Starts the server on 127.0.0.1 with a port of its own; set `mode` between runs. */
export async function startHostileServer(mode: HostileMode = "plain"): Promise<HostileServer> {
  const requests: HostileRequest[] = [];
  const state = { mode };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: HostileRequest = { method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      requests.push(r);
      answer(state.mode, r, res, req.socket);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: "127.0.0.1",
    port,
    get mode() {
      return state.mode;
    },
    set mode(m: HostileMode) {
      state.mode = m;
    },
    requests,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
