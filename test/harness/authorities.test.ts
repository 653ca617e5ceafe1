import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { fakeKeyVault, KeyVaultAdmin, keyVaultAdminToken, projectedToken, workloadIdentity } from "./authorities.js";
import { KEY_VAULT_DOMAIN } from "./fake-key-vault.js";
import { httpsClient } from "./https-client.js";
import { OpenBaoAdmin, OpenBaoAudit } from "./openbao.js";

const kube = inject("kube");
const bao = inject("openbao");
const admin = new OpenBaoAdmin(bao);
let dir = "";
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "reseed-authorities-"));
});

describe("OpenBao (real, dev server)", () => {
  it("answers over TLS with its own CA and records writes in its audit device", async () => {
    const audit = new OpenBaoAudit(bao.auditLog);
    const mark = await audit.mark();
    await admin.kvPut("secret", "harness/check", { a: "one" });
    expect((await admin.kvGet("secret", "harness/check"))?.data).toEqual({ a: "one" });
    expect(await audit.since(mark)).toEqual(["vault create secret/data/harness/check"]);
  });

  it("logs a ServiceAccount in through kubernetes auth, reviewed by the test API server", async () => {
    await admin.policy("harness-read", 'path "secret/data/harness/*" { capabilities = ["read"] }');
    await admin.kubernetesRole("harness", { namespace: "harness", name: "reader" }, ["harness-read"]);
    await admin.kvPut("secret", "harness/for-reader", { a: "one" });
    const jwt = await readFile(
      await projectedToken(kube, "harness", "reader", { file: join(dir, "reader.token") }),
      "utf8",
    );
    const client = httpsClient(bao.address, bao.caFile);
    const login = await client.json<{ auth: { client_token: string } }>("POST", "/v1/auth/kubernetes/login", {
      body: { role: "harness", jwt },
    });
    const read = await client.json<{ data: { data: Record<string, string> } }>(
      "GET",
      "/v1/secret/data/harness/for-reader",
      { headers: { "x-vault-token": login.auth.client_token } },
    );
    expect(read.data.data).toEqual({ a: "one" });
    const other = await client.request("POST", "/v1/auth/kubernetes/login", {
      body: {
        role: "harness",
        jwt: await readFile(
          await projectedToken(kube, "harness", "intruder", { file: join(dir, "intruder.token") }),
          "utf8",
        ),
      },
    });
    expect(other.status).toBe(403);
  });

  it("seals and unseals", async () => {
    await admin.seal();
    expect((await admin.client.request("GET", "/v1/sys/health")).status).toBe(503);
    await admin.unseal();
    expect((await admin.client.request("GET", "/v1/sys/health")).status).toBe(200);
  });
});

describe("fake Entra + fake Key Vault", () => {
  it("issues a token for a federated ServiceAccount token that the fake Key Vault accepts, and refuses others", async () => {
    const azure = await fakeKeyVault(kube);
    const vault = await azure.addVault("harness");
    const env = await workloadIdentity(azure, kube, "harness", "kv-user", dir);
    vault.allow(env.AZURE_CLIENT_ID!, ["get", "set"]);
    const entra = httpsClient(azure.entra.authorityHost, azure.caFile);
    const assertion = await readFile(env.AZURE_FEDERATED_TOKEN_FILE!, "utf8");
    const form = (clientId: string) => ({
      grant_type: "client_credentials",
      client_id: clientId,
      scope: `https://${KEY_VAULT_DOMAIN}/.default`,
      client_assertion_type: "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
      client_assertion: assertion,
    });
    const token = JSON.parse(
      (await entra.request("POST", `/${azure.entra.tenantId}/oauth2/v2.0/token`, { form: form(env.AZURE_CLIENT_ID!) }))
        .body,
    ) as { access_token: string };
    const kv = httpsClient(vault.url, azure.caFile);
    const challenge = await kv.request("GET", "/secrets/x?api-version=7.6");
    expect(challenge.status).toBe(401);
    expect(challenge.headers["www-authenticate"]).toContain(`resource="https://${KEY_VAULT_DOMAIN}"`);
    const auth = { authorization: `Bearer ${token.access_token}` };
    expect(
      (await kv.request("PUT", "/secrets/x?api-version=7.6", { headers: auth, body: { value: "v1" } })).status,
    ).toBe(200);
    expect(JSON.parse((await kv.request("GET", "/secrets/x?api-version=7.6", { headers: auth })).body).value).toBe(
      "v1",
    );
    expect((await kv.request("GET", "/secrets?api-version=7.6", { headers: auth })).status).toBe(403);

    azure.entra.federate({
      clientId: "app-mismatch",
      issuer: "https://elsewhere",
      subject: "system:serviceaccount:x:y",
    });
    const refused = await entra.request("POST", `/${azure.entra.tenantId}/oauth2/v2.0/token`, {
      form: form("app-mismatch"),
    });
    expect(refused.status).toBe(400);
    expect(refused.body).toContain("AADSTS70021");
  });
});

describe("fake Key Vault: one endpoint, soft delete, API versions", () => {
  it("serves several vaults by Host, answers an unknown vault VaultNotFound (not SecretNotFound), and checks api-version per vault", async () => {
    const azure = await fakeKeyVault(kube);
    const a = await azure.addVault("harness-a");
    const b = await azure.addVault("harness-b", { apiVersions: ["7.2", "7.3"] });
    expect(new URL(a.url).port).toBe(new URL(b.url).port);
    const auth = { authorization: `Bearer ${await keyVaultAdminToken(azure)}` };
    const kv = (url: string) => httpsClient(url, azure.caFile, () => auth);
    expect((await kv(a.url).request("PUT", "/secrets/x?api-version=7.6", { body: { value: "in-a" } })).status).toBe(
      200,
    );
    expect((await kv(b.url).request("PUT", "/secrets/x?api-version=7.3", { body: { value: "in-b" } })).status).toBe(
      200,
    );
    expect(a.peek("x")?.value).toBe("in-a");
    expect(b.peek("x")?.value).toBe("in-b");

    const unknown = await kv(a.url.replace("harness-a", "harness-typo")).request("GET", "/secrets/x?api-version=7.6");
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body).error.code).toBe("VaultNotFound");
    const missing = await kv(a.url).request("GET", "/secrets/absent?api-version=7.6");
    expect(JSON.parse(missing.body).error.code).toBe("SecretNotFound");

    expect((await kv(a.url).request("GET", "/secrets/x")).status).toBe(400);
    const lagging = await kv(b.url).request("GET", "/secrets/x?api-version=7.6");
    expect(lagging.status).toBe(400);
    expect(JSON.parse(lagging.body).error.message).toContain("(7.6) is not recognized");
  });

  it("keeps a deleted name taken (409) until it is recovered, and recovery is a long-running operation", async () => {
    const azure = await fakeKeyVault(kube);
    const v = await azure.addVault("harness-soft");
    const admin = new KeyVaultAdmin(azure, v.url);
    await admin.put("kept", "old-value", { t: "1" });
    await admin.softDelete("kept");
    expect(v.deletedNames()).toEqual(["kept"]);
    const token = await keyVaultAdminToken(azure);
    const kv = httpsClient(v.url, azure.caFile, () => ({ authorization: `Bearer ${token}` }));
    const conflict = await kv.request("PUT", "/secrets/kept?api-version=7.6", { body: { value: "new-value" } });
    expect(conflict.status).toBe(409);
    expect(JSON.parse(conflict.body).error.message).toContain("deleted but recoverable");
    const deleted = JSON.parse((await kv.request("GET", "/deletedsecrets/kept?api-version=7.6")).body);
    expect(deleted).toMatchObject({ recoveryId: `${v.url}/deletedsecrets/kept`, tags: { t: "1" } });
    expect(deleted.value).toBeUndefined();

    azure.setRecoveryDelay(300);
    expect((await kv.request("POST", "/deletedsecrets/kept/recover?api-version=7.6")).status).toBe(200);
    expect((await kv.request("GET", "/secrets/kept?api-version=7.6")).status).toBe(404);
    await new Promise((r) => setTimeout(r, 350));
    expect(JSON.parse((await kv.request("GET", "/secrets/kept?api-version=7.6")).body).value).toBe("old-value");
    azure.setRecoveryDelay(1500);
  });
});
