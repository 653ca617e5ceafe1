import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Redactor } from "../../steps/core/redact.js";
import { resolveInputs } from "../../steps/inputs/index.js";
import { workloadIdentityInputs } from "../../steps/stores/key-vault/connection.js";
import { vaultImplicitInputs } from "../../steps/stores/vault/connection.js";

const noKube = () => {
  throw new Error("no API server in unit tests");
};

async function resolve(env: NodeJS.ProcessEnv, implicit = workloadIdentityInputs()) {
  const redactor = new Redactor();
  const r = await resolveInputs(
    { region: { env: "REGION" } },
    { env: { namespace: "ns", kube: noKube, env, timeoutMs: 1000, redactor }, redactor, managed: true, implicit },
  );
  return { ...r, redactor };
}

describe("implicit inputs", () => {
  it("reports every missing workload-identity variable together with the missing declared inputs (C1)", async () => {
    const r = await resolve({ AZURE_TENANT_ID: "2f7c1c55-8f1e-4c3e-9d53-0e8b7f1a2b3c" });
    expect(r.problems.map((p) => p.subject)).toEqual([
      "env AZURE_CLIENT_ID",
      "env AZURE_FEDERATED_TOKEN_FILE",
      "region",
    ]);
    expect(r.problems[0]!.message).toContain('azure.workload.identity/use: "true"');
  });

  it("checks that the federated token file named by the environment exists", async () => {
    const dir = await mkdtemp(join(tmpdir(), "reseed-implicit-"));
    const env = {
      REGION: "westeurope",
      AZURE_CLIENT_ID: "c2d0c4f9-1b7e-4c52-a7a8-6a1f1c9e0d11",
      AZURE_TENANT_ID: "2f7c1c55-8f1e-4c3e-9d53-0e8b7f1a2b3c",
    };
    const missing = await resolve({ ...env, AZURE_FEDERATED_TOKEN_FILE: join(dir, "nope") });
    expect(missing.problems.map((p) => p.message).join()).toContain("which does not exist");
    await writeFile(join(dir, "token"), "eyJhbGciOiJSUzI1NiJ9.e30.c2ln");
    const ok = await resolve({ ...env, AZURE_FEDERATED_TOKEN_FILE: join(dir, "token") });
    expect(ok.problems).toEqual([]);
    expect(ok.facts).toEqual({ region: "westeurope" });
  });

  it("treats a Vault token as secret: registered for masking, never a fact", async () => {
    const r = await resolve(
      { REGION: "westeurope", VAULT_TOKEN: "hvs.CAESIJ-not-a-real-token" },
      vaultImplicitInputs({ token: { env: "VAULT_TOKEN" } }),
    );
    expect(r.problems).toEqual([]);
    expect(r.facts).toEqual({ region: "westeurope" });
    expect(r.redactor.mask("token hvs.CAESIJ-not-a-real-token")).toBe("token [REDACTED]");
  });
});
