import { readFileSync } from "node:fs";
import { Agent, request } from "node:https";
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
  const send: HttpsClient["request"] = (method, path, options = {}) =>
    new Promise((resolve, reject) => {
      const payload =
        options.form !== undefined
          ? new URLSearchParams(options.form).toString()
          : options.body === undefined
            ? undefined
            : JSON.stringify(options.body);
      const contentType = options.form !== undefined ? "application/x-www-form-urlencoded" : "application/json";
      const req = request(
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
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString("utf8"),
            }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  return {
    request: send,
    async json<T>(
      method: string,
      path: string,
      options: { body?: unknown; headers?: Record<string, string>; allowed?: number[] } = {},
    ) {
      const res = await send(method, path, options);
      const ok = (res.status >= 200 && res.status < 300) || options.allowed?.includes(res.status);
      if (!ok) throw new Error(`${method} ${path} answered ${res.status}: ${res.body.slice(0, 300)}`);
      return (res.body ? JSON.parse(res.body) : undefined) as T;
    },
  };
}
