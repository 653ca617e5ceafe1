import { describe, expect, it } from "vitest";
import { storeDependencies } from "../../steps/stores/index.js";
import { KEY_VAULT_API_VERSIONS } from "../../steps/core/key-vault-schema.js";
import { problemsOf } from "../harness/unit-problems.js";

const unit = (spec: Record<string, unknown>) => ({
  apiVersion: "reseed.dev/v1alpha1",
  kind: "SeedingUnit",
  metadata: { name: "kv" },
  spec: { pattern: "reconciler", ...spec },
});
const generated = (keyVault: Record<string, unknown>) =>
  unit({ ensure: { kind: "generated-secret", with: { keyVault, keys: [{ name: "k" }] } } });

describe("keyVault.url", () => {
  it("accepts a vault origin in any cloud, with or without the portal's trailing slash", () => {
    for (const url of [
      "https://kv-platform.vault.azure.net",
      "https://kv-platform.vault.azure.net/",
      "https://kv-platform.vault.azure.cn",
      "https://kv-platform.vault.usgovcloudapi.net",
      "https://kv1.vault.local.azurestack.external:443",
    ]) {
      expect(problemsOf(generated({ url })), url).toEqual([]);
    }
  });

  it("refuses http, a path, a query, credentials and a non-URL, each saying why, by field path", () => {
    const at =
      "spec.ensure.with.keyVault.url: must be the vault's origin, https://<vault-name>.vault.azure.net (or a sovereign-cloud suffix)";
    expect(problemsOf(generated({ url: "http://kv.vault.azure.net" }))).toEqual([`${at}: http is not https`]);
    expect(problemsOf(generated({ url: "https://gateway.corp.example/kv-platform" }))).toEqual([
      `${at}: without a path (/kv-platform)`,
    ]);
    expect(problemsOf(generated({ url: "https://kv.vault.azure.net/?api-version=7.4" }))).toEqual([
      `${at}: without a query (?api-version=7.4)`,
    ]);
    expect(problemsOf(generated({ url: "https://user:pw@kv.vault.azure.net" }))).toEqual([
      `${at}: credentials do not belong in it`,
    ]);
    expect(problemsOf(generated({ url: "kv-platform" }))).toEqual([`${at}: not a URL`]);
  });

  it("is checked the same way on a keyVault input and on secret-sync's ends", () => {
    const input = unit({
      inputs: { token: { keyVault: { url: "https://kv.vault.azure.net/secrets", name: "token" } } },
      ensure: { kind: "generated-secret", with: { secret: { name: "s" }, keys: [{ name: "k" }] } },
    });
    expect(problemsOf(input).join()).toContain("spec.inputs.token.keyVault.url: must be the vault's origin");
    const sync = unit({
      ensure: {
        kind: "secret-sync",
        with: {
          from: { keyVault: { url: "http://a.vault.azure.net" } },
          to: { kubernetesSecret: { name: "s" } },
          keys: ["k"],
          drift: "correct",
        },
      },
    });
    expect(problemsOf(sync).join()).toContain("spec.ensure.with.from");
  });
});

describe("keyVault.apiVersion", () => {
  it("accepts every version the installed client speaks, and nothing else", () => {
    expect(KEY_VAULT_API_VERSIONS).toContain("7.4");
    for (const apiVersion of KEY_VAULT_API_VERSIONS)
      expect(problemsOf(generated({ url: "https://kv.vault.azure.net", apiVersion }))).toEqual([]);
    const [problem] = problemsOf(generated({ url: "https://kv.vault.azure.net", apiVersion: "2016-10-01" }));
    expect(problem).toContain("spec.ensure.with.keyVault.apiVersion");
    expect(problem).toContain('"7.6"');
  });

  it("is what wait-deps sends in its auth-challenge probe", () => {
    expect(storeDependencies({ keyVault: { url: "https://kv.vault.azure.net/", apiVersion: "7.2" } })).toEqual([
      { http: { url: "https://kv.vault.azure.net/secrets?api-version=7.2", expectStatus: [401] } },
    ]);
  });
});
