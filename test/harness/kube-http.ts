import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";

/** Where the API server is and the admin's client cert: enough for the harness's own calls. */
export interface AdminEndpoint {
  url: string;
  caFile: string;
  adminCertFile: string;
  adminKeyFile: string;
}

export interface KubeResponse {
  status: number;
  body: string;
}

/** A small admin client for the harness itself, so its calls do not depend on the code under test. */
export interface AdminClient {
  request(method: string, path: string, body?: unknown, contentType?: string): Promise<KubeResponse>;
  /** Like request, but a status outside 2xx (and outside `allowed`) throws with the server's message. */
  json<T>(method: string, path: string, body?: unknown, options?: { allowed?: number[]; contentType?: string }): Promise<T>;
}

export function adminClient(endpoint: AdminEndpoint): AdminClient {
  // No keep-alive: idle sockets would keep a test process alive after its last test.
  const agent = new Agent({
    ca: readFileSync(endpoint.caFile),
    cert: readFileSync(endpoint.adminCertFile),
    key: readFileSync(endpoint.adminKeyFile),
    keepAlive: false,
  });

  const send = (method: string, path: string, body?: unknown, contentType = "application/json") =>
    new Promise<KubeResponse>((resolve, reject) => {
      const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
      const req = request(new URL(path, endpoint.url), {
        method,
        agent,
        headers: {
          accept: "application/json",
          ...(payload === undefined ? {} : { "content-type": contentType, "content-length": Buffer.byteLength(payload) }),
        },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end(payload);
    });

  return {
    request: send,
    async json<T>(method: string, path: string, body?: unknown, options: { allowed?: number[]; contentType?: string } = {}) {
      const res = await send(method, path, body, options.contentType);
      const ok = (res.status >= 200 && res.status < 300) || options.allowed?.includes(res.status);
      if (!ok) throw new Error(`${method} ${path} answered ${res.status}: ${statusMessage(res.body)}`);
      return (res.body ? JSON.parse(res.body) : undefined) as T;
    },
  };
}

function statusMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { message?: unknown }).message;
    if (typeof message === "string") return message;
  } catch {
    // not a Status object: show the raw body
  }
  return body.slice(0, 500);
}
