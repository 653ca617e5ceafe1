import { readFileSync } from "node:fs";
import { Agent, request, type RequestOptions } from "node:https";
import type { LookupFunction } from "node:net";

// Names under .reseed.test are the fakes' (see test/harness/loopback-dns.mjs): loopback.
const lookup: LookupFunction = (hostname, options, callback) => {
  if (hostname.endsWith(".reseed.test")) {
    if (options.all)
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
        { address: "127.0.0.1", family: 4 },
      ]);
    else callback(null, "127.0.0.1", 4);
    return;
  }
  import("node:dns").then(
    (dns) => dns.lookup(hostname, options, callback),
    (err: NodeJS.ErrnoException) => callback(err, "", 0),
  );
};

export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** What the harness sends to the servers it runs, trusting their CA only; independent of the code under test. */
export interface HttpsClient {
  request(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string>; form?: Record<string, string> },
  ): Promise<HttpsResponse>;
  /** Like request, but a status outside 2xx (and outside `allowed`) throws, naming the request and the status. */
  json<T>(
    method: string,
    path: string,
    options?: { body?: unknown; headers?: Record<string, string>; allowed?: number[] },
  ): Promise<T>;
}

export function httpsClient(
  baseUrl: string,
  caFile: string,
  defaultHeaders: () => Record<string, string> = () => ({}),
): HttpsClient {
  // No keep-alive: idle sockets would keep a test process alive after its last test.
  const agent = new Agent({ ca: readFileSync(caFile), keepAlive: false, lookup });
  const send: HttpsClient["request"] = async (method, path, options = {}) => {
    const payload =
      options.form !== undefined
        ? new URLSearchParams(options.form).toString()
        : options.body === undefined
          ? undefined
          : JSON.stringify(options.body);
    const contentType = options.form !== undefined ? "application/x-www-form-urlencoded" : "application/json";
    return exchange(
      new URL(path, baseUrl),
      {
        method,
        agent,
        headers: {
          accept: "application/json",
          ...defaultHeaders(),
          ...options.headers,
          ...(payload === undefined
            ? {}
            : { "content-type": contentType, "content-length": Buffer.byteLength(payload) }),
        },
      },
      payload,
    );
  };
  return {
    request: send,
    async json<T>(
      method: string,
      path: string,
      options: { body?: unknown; headers?: Record<string, string>; allowed?: number[] } = {},
    ) {
      return okJson<T>(method, path, await send(method, path, options), options.allowed, (body) => body.slice(0, 300));
    },
  };
}

// The two harness clients (this one and kube-http.ts's, for the API server) differ in how
// they authorize and encode a request; sending it and judging the answer are the same.

/** One request, its answer's body read whole. */
export function exchange(url: URL, options: RequestOptions, payload?: string): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** The answer's JSON body; a status outside 2xx and outside `allowed` throws, naming the request, the status and `detail` of the body. */
export function okJson<T>(
  method: string,
  path: string,
  res: { status: number; body: string },
  allowed: number[] | undefined,
  detail: (body: string) => string,
): T {
  const ok = (res.status >= 200 && res.status < 300) || allowed?.includes(res.status);
  if (!ok) throw new Error(`${method} ${path} answered ${res.status}: ${detail(res.body)}`);
  return (res.body ? JSON.parse(res.body) : undefined) as T;
}
