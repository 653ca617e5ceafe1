import { randomUUID } from "node:crypto";
import { open, stat } from "node:fs/promises";
import type { AdminClient } from "./kube-http.js";

/** One request as the API server's audit log saw it when the response completed. */
export interface AuditWrite {
  verb: string;
  /** The effective user: the impersonated one when the request impersonated. */
  user: string;
  /** "" for cluster-scoped objects and non-resource URLs. */
  namespace: string;
  /** RBAC notation: "secrets", or "serviceaccounts/token" for a subresource; "" for non-resource URLs. */
  resource: string;
  name: string;
  /** HTTP status code of the response. */
  code: number;
}

export interface AuditRequest extends AuditWrite {
  uri: string;
  /** A dryRun=All request: the server validated it and stored nothing. */
  dryRun: boolean;
}

export interface AuditFilter {
  user?: string;
  namespace?: string;
}

const WRITE_VERBS = new Set(["create", "update", "patch", "delete", "deletecollection"]);
const BARRIER_PARAM = "reseed-audit-barrier";
const BARRIER_TIMEOUT_MS = 10_000;

interface AuditEvent {
  stage?: string;
  verb?: string;
  requestURI?: string;
  user?: { username?: string };
  impersonatedUser?: { username?: string };
  objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus?: { code?: number };
}

/** Reads the audit log of one API server; works from any process on the machine. */
export class AuditLog {
  constructor(
    private readonly path: string,
    private readonly admin: AdminClient,
  ) {}

  /**
   * An offset in the log after every request that completed before this call.
   * Responses can reach the client a moment before their audit line is written,
   * so it makes a request of its own and waits until that line is in the file.
   */
  async mark(): Promise<number> {
    const start = (await stat(this.path)).size;
    const id = randomUUID();
    const res = await this.admin.request("GET", `/version?${BARRIER_PARAM}=${id}`);
    if (res.status !== 200) throw new Error(`audit barrier request answered ${res.status}: ${res.body}`);
    const deadline = Date.now() + BARRIER_TIMEOUT_MS;
    for (;;) {
      const { text, end } = await this.readLines(start);
      if (text.includes(id)) return end;
      if (Date.now() > deadline) {
        throw new Error(
          `the audit log ${this.path} did not record a request within ${BARRIER_TIMEOUT_MS} ms: ` +
            "is the API server running with --audit-log-path and an audit policy?",
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Every request (reads too) that completed after `mark`, in log order. */
  async requestsSince(mark: number, filter: AuditFilter = {}): Promise<AuditRequest[]> {
    const end = await this.mark();
    const { text } = await this.readLines(mark, end);
    return text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as AuditEvent)
      .filter((event) => event.stage === "ResponseComplete" && !event.requestURI?.includes(BARRIER_PARAM))
      .map(toRequest)
      .filter(
        (request) =>
          (filter.user === undefined || request.user === filter.user) &&
          (filter.namespace === undefined || request.namespace === filter.namespace),
      );
  }

  /** The create/update/patch/delete/deletecollection requests, dry runs left out, that completed after `mark`. */
  async writesSince(mark: number, filter: AuditFilter = {}): Promise<AuditWrite[]> {
    const requests = await this.requestsSince(mark, filter);
    return requests
      .filter((request) => WRITE_VERBS.has(request.verb) && !request.dryRun)
      .map(({ uri: _uri, dryRun: _dryRun, ...write }) => write);
  }

  /** The complete lines from `start` (up to `limit`), and the offset just after the last of them. */
  private async readLines(start: number, limit?: number): Promise<{ text: string; end: number }> {
    const file = await open(this.path, "r");
    try {
      const length = (limit ?? (await file.stat()).size) - start;
      const buffer = Buffer.alloc(Math.max(length, 0));
      const { bytesRead } = await file.read(buffer, 0, buffer.length, start);
      const complete = buffer.subarray(0, buffer.lastIndexOf(0x0a, bytesRead - 1) + 1);
      return { text: complete.toString("utf8"), end: start + complete.length };
    } finally {
      await file.close();
    }
  }
}

function toRequest(event: AuditEvent): AuditRequest {
  const ref = event.objectRef ?? {};
  const uri = event.requestURI ?? "";
  return {
    verb: event.verb ?? "",
    user: event.impersonatedUser?.username ?? event.user?.username ?? "",
    namespace: ref.namespace ?? "",
    resource: ref.subresource ? `${ref.resource}/${ref.subresource}` : (ref.resource ?? ""),
    name: ref.name ?? "",
    code: event.responseStatus?.code ?? 0,
    uri,
    dryRun: new URL(uri, "https://audit.invalid").searchParams.getAll("dryRun").includes("All"),
  };
}
