// Conformance cases of runtime-facts (test code, run by test/conformance/conformance.test.ts):
// facts from a ConfigMap and a literal, and a fact read over HTTP behind an http dependency.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { reconciler, type ConformanceCase } from "../../../test/conformance/cases.js";

const fromConfigMap: ConformanceCase = {
  spec: () =>
    reconciler(
      "runtime-facts",
      {
        configMap: { name: "cluster-facts" },
        facts: { oidcIssuer: { input: "issuer" }, clusterName: { input: "clusterName" }, tier: "dev" },
      },
      { issuer: { configMapKeyRef: { name: "infra", key: "issuer" } }, clusterName: { value: "conformance" } },
    ),
  setup: (admin, ns) => admin.putConfigMap(ns, "infra", { issuer: "https://oidc.conformance.internal" }),
  removeInput: { issuer: (admin, ns) => admin.putConfigMap(ns, "infra", {}) },
  deleteState: (admin, ns) => admin.deleteConfigMap(ns, "cluster-facts"),
  writtenSecrets: async () => [],
};

/**
 * A fact read over HTTP with a bearer token from a file (httpJson), behind an http
 * dependency: a loopback JSON server stands in for the cluster's OIDC discovery and
 * answers only with the token. The token holds characters every encoding treats apart.
 */
function overHttp(): ConformanceCase {
  const token = `tok-${randomBytes(8).toString("hex")}*!'()~+/=% é-${randomBytes(8).toString("hex")}`;
  let server: http.Server | undefined;
  let url = "";
  let dir = "";
  const tokenFile = () => path.join(dir, "token");
  return {
    name: "httpJson",
    servers: async () => {
      dir = await mkdtemp(path.join(tmpdir(), "reseed-conf-http-"));
      server = http.createServer((req, res) => {
        if (req.url === "/healthz") return void res.writeHead(200).end("ok");
        if (req.headers.authorization !== `Bearer ${token}`) return void res.writeHead(401).end();
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ issuer: "https://oidc.facts.conformance.internal" }));
      });
      await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    stopServers: async () => {
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      await rm(dir, { recursive: true, force: true });
    },
    spec: () => ({
      ...reconciler(
        "runtime-facts",
        { configMap: { name: "oidc-facts" }, facts: { oidcIssuer: { input: "issuer" } } },
        {
          issuer: {
            httpJson: { url: `${url}/.well-known/openid-configuration`, field: "issuer", bearerTokenFile: tokenFile() },
          },
        },
      ),
      dependencies: [{ http: { url: `${url}/healthz` } }],
    }),
    setup: () => writeFile(tokenFile(), `${token}\n`),
    removeInput: { issuer: () => rm(tokenFile(), { force: true }) },
    deleteState: (admin, ns) => admin.deleteConfigMap(ns, "oidc-facts"),
    writtenSecrets: async () => [token],
  };
}

export const conformance = [fromConfigMap, overHttp()];
