// Each test server's variable (RESEED_ARGOCD, KUBEBUILDER_ASSETS, …) lets a developer point
// the tests at a binary of their own, which make then does not build. The Makefile exports
// its own defaults, so a sub-make (make test runs make e2e-deps and make e2e) sees them set:
// it must still build them. It did not, and a cold `make test` never built Argo CD or
// versitygw (test/servers/servers.mk, given). Read from make itself, no build.
import { spawnSync } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

// The variable a developer may set, and the make variable listing what make builds for it.
const SERVERS: [string, string][] = [
  ["KUBEBUILDER_ASSETS", "SERVERS_KUBE"],
  ["RESEED_HELM", "SERVERS_HELM"],
  ["RESEED_PROMTOOL", "SERVERS_PROMTOOL"],
  ["RESEED_ARGO", "SERVERS_ARGO"],
  ["RESEED_ARGO_CRDS", "SERVERS_ARGO_CRDS"],
  ["RESEED_ARGOCD", "SERVERS_ARGOCD"],
  ["RESEED_VERSITYGW", "SERVERS_VERSITYGW"],
  ["RESEED_CODER", "SERVERS_CODER"],
  ["RESEED_CODER_PG_BINDIR", "SERVERS_CODER_PG"],
  ["RESEED_KEYCLOAK_HOME", "SERVERS_KEYCLOAK"],
  ["RESEED_BAO", "SERVERS_BAO"],
  ["RESEED_PG_BIN", "SERVERS_POSTGRES"],
  ["RESEED_ESO", "SERVERS_ESO"],
  ["RESEED_ESO_CRDS", "SERVERS_ESO_CRDS"],
];

/** Each variable and what make would build for it, as make sees them under `env`. */
function makeSees(env: Record<string, string>): Map<string, { value: string; builds: string }> {
  const show = SERVERS.map(([v, s]) => `@echo '${v}=$(${v})|$(strip $(${s}))'`).join("\n\t");
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !SERVERS.some(([v]) => v === k)),
  ) as Record<string, string>;
  const r = spawnSync("make", ["--no-print-directory", "--eval", `show-servers:\n\t${show}`, "show-servers"], {
    cwd: root,
    encoding: "utf8",
    env: { ...base, ...env },
  });
  if (r.status !== 0) throw new Error(`make could not print its server variables:\n${r.stderr}`);
  return new Map(
    r.stdout
      .trim()
      .split("\n")
      .map((line) => {
        const [name, rest] = [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)];
        const [value, builds] = rest.split("|") as [string, string];
        return [name, { value, builds }];
      }),
  );
}

describe("test server overrides", () => {
  const own = makeSees({});

  it("unset: make builds every server itself", () => {
    for (const [v] of SERVERS) expect(own.get(v)?.builds, v).not.toBe("");
  });

  it("set to make's own default, as a parent make exports it: the sub-make still builds it", () => {
    const sub = makeSees(Object.fromEntries(SERVERS.map(([v]) => [v, own.get(v)!.value])));
    for (const [v] of SERVERS) expect(sub.get(v)?.builds, v).toBe(own.get(v)?.builds);
  });

  it("set to a binary of the developer's: make builds nothing for it and passes it on", () => {
    const theirs = makeSees(Object.fromEntries(SERVERS.map(([v]) => [v, `/opt/theirs/${v}`])));
    for (const [v] of SERVERS) expect(theirs.get(v), v).toEqual({ value: `/opt/theirs/${v}`, builds: "" });
  });
});
