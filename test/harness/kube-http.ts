import { readFileSync } from "node:fs";
import { Agent, type RequestOptions } from "node:https";
import { exchange, okJson } from "./https-client.js";

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
  json<T>(
    method: string,
    path: string,
    body?: unknown,
    options?: { allowed?: number[]; contentType?: string },
  ): Promise<T>;
}

export function adminClient(endpoint: AdminEndpoint): AdminClient {
  // No keep-alive: idle sockets would keep a test process alive after its last test.
  const agent = new Agent({
    ca: readFileSync(endpoint.caFile),
    cert: readFileSync(endpoint.adminCertFile),
    key: readFileSync(endpoint.adminKeyFile),
    keepAlive: false,
  });
  return jsonClient(endpoint.url, (options) => {
    options.agent = agent;
  });
}

/**
 * A client for the API server at `url`; `authorize` adds the credentials to each request's
 * options (an agent with a client certificate, or what a kubeconfig gives).
 */
export function jsonClient(url: string, authorize: (options: RequestOptions) => void | Promise<void>): AdminClient {
  const send = async (method: string, path: string, body?: unknown, contentType = "application/json") => {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const options: RequestOptions = {
      method,
      headers: {
        accept: "application/json, */*",
        ...(payload === undefined ? {} : { "content-type": contentType, "content-length": Buffer.byteLength(payload) }),
      },
    };
    await authorize(options);
    return exchange(new URL(path, url), options, payload);
  };

  return {
    request: send,
    async json<T>(
      method: string,
      path: string,
      body?: unknown,
      options: { allowed?: number[]; contentType?: string } = {},
    ) {
      return okJson<T>(
        method,
        path,
        await send(method, path, body, options.contentType),
        options.allowed,
        statusMessage,
      );
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
