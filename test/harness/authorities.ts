// The secret authorities of the tests beside the API server: the real OpenBao (started once
// per run by the global setup, its kubernetes auth trusting the test API server) and the
// fake Key Vault and the fake Entra it trusts (started inside the test process that uses them).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { adminClient } from "./kube-http.js";
import { serviceAccountToken, type KubeInfo } from "./kube.js";
import { EXCHANGE_AUDIENCE } from "./fake-entra.js";
import { KEY_VAULT_DOMAIN, startFakeKeyVault, type FakeKeyVault } from "./fake-key-vault.js";
import { httpsClient } from "./https-client.js";
import { OpenBaoAdmin, type OpenBaoInfo } from "./openbao.js";

const REVIEWER = { namespace: "kube-system", name: "openbao-token-reviewer" };

/**
 * OpenBao's kubernetes auth method, as a cluster would set it up: TokenReview against the
 * test API server with a reviewer ServiceAccount bound to system:auth-delegator.
 */
export async function configureKubernetesAuth(bao: OpenBaoInfo, kube: KubeInfo, namespace?: string): Promise<void> {
  const admin = adminClient(kube);
  const reviewerJwt = await serviceAccountToken(admin, REVIEWER.namespace, REVIEWER.name);
  await admin.json(
    "POST",
    "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: REVIEWER.name },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "system:auth-delegator" },
      subjects: [{ kind: "ServiceAccount", ...REVIEWER }],
    },
    { allowed: [409] },
  );
  await new OpenBaoAdmin(bao).enableKubernetesAuth(
    { host: kube.url, caPem: await readFile(kube.caFile, "utf8"), reviewerJwt },
    namespace,
  );
}

/** Writes a ServiceAccount token to a file, as the kubelet projects one into a pod. */
export async function projectedToken(
  kube: KubeInfo,
  namespace: string,
  serviceAccount: string,
  opts: { audience?: string; file: string },
): Promise<string> {
  const token = await serviceAccountToken(
    adminClient(kube),
    namespace,
    serviceAccount,
    opts.audience ? [opts.audience] : undefined,
  );
  await mkdir(dirname(opts.file), { recursive: true });
  await writeFile(opts.file, token, { mode: 0o600 });
  return opts.file;
}

/**
 * A unit's way into OpenBao, as the tests that run units against it each set it up: policy
 * `role` (`hcl`) and the kubernetes-auth role of the same name for ServiceAccount `unit` of
 * `namespace`, and that ServiceAccount's token projected to `tokenFile`.
 */
export async function vaultUnitRole(
  bao: OpenBaoAdmin,
  kube: KubeInfo,
  namespace: string,
  role: string,
  hcl: string,
  tokenFile: string,
): Promise<void> {
  await bao.policy(role, hcl);
  await bao.kubernetesRole(role, { namespace, name: "unit" }, [role]);
  await projectedToken(kube, namespace, "unit", { file: tokenFile });
}

let fake: Promise<FakeKeyVault> | undefined;

/** The fake Key Vault and its Entra of this test process (one per process), checking assertions with the API server that issued them. */
export function fakeKeyVault(kube: KubeInfo): Promise<FakeKeyVault> {
  const admin = adminClient(kube);
  const reviewToken = async (token: string, audience: string) => {
    const review = await admin.json<{ status: { authenticated?: boolean } }>(
      "POST",
      "/apis/authentication.k8s.io/v1/tokenreviews",
      {
        apiVersion: "authentication.k8s.io/v1",
        kind: "TokenReview",
        spec: { token, audiences: [audience] },
      },
    );
    return review.status.authenticated === true;
  };
  return (fake ??= startFakeKeyVault({ reviewToken }));
}

/**
 * Workload identity for one ServiceAccount, the way the webhook wires a pod: an app whose
 * federated credential trusts the account, a token file with the exchange audience, and
 * the AZURE_* environment. Returns that environment.
 */
export async function workloadIdentity(
  azure: FakeKeyVault,
  kube: KubeInfo,
  namespace: string,
  serviceAccount: string,
  dir: string,
): Promise<Record<string, string>> {
  const tokenFile = await projectedToken(kube, namespace, serviceAccount, {
    audience: EXCHANGE_AUDIENCE,
    file: join(dir, `${namespace}.${serviceAccount}.azure-identity-token`),
  });
  const claims = JSON.parse(
    Buffer.from((await readFile(tokenFile, "utf8")).split(".")[1]!, "base64url").toString("utf8"),
  ) as { iss: string; sub: string };
  const clientId = `app-${namespace}-${serviceAccount}`;
  azure.entra.federate({ clientId, issuer: claims.iss, subject: claims.sub });
  return {
    AZURE_CLIENT_ID: clientId,
    AZURE_TENANT_ID: azure.entra.tenantId,
    AZURE_FEDERATED_TOKEN_FILE: tokenFile,
    AZURE_AUTHORITY_HOST: azure.entra.authorityHost,
  };
}

const loopbackDns = fileURLToPath(new URL("./loopback-dns.mjs", import.meta.url));

/**
 * Environment for step processes that reach the servers here: the CA bundle they trust, and
 * the loopback resolver for the fake vaults' names (*.vault.reseed.test).
 */
export function authorityStepEnv(caBundleFile: string): Record<string, string> {
  return { NODE_EXTRA_CA_CERTS: caBundleFile, NODE_OPTIONS: `--import=${loopbackDns}` };
}

/** One CA bundle for NODE_EXTRA_CA_CERTS, which names a single file. */
export async function caBundle(files: string[], dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  const out = join(dir, "ca-bundle.pem");
  await writeFile(out, (await Promise.all(files.map((f) => readFile(f, "utf8")))).join("\n"));
  return out;
}

/**
 * A Key Vault token for the fake Entra's admin client (client credentials): KeyVaultAdmin's,
 * and the one the harness's own tests send in raw requests to the fake Key Vault.
 */
export async function keyVaultAdminToken(azure: FakeKeyVault): Promise<string> {
  const { clientId, clientSecret } = azure.entra.adminCredentials();
  const res = await httpsClient(azure.entra.authorityHost, azure.caFile).request(
    "POST",
    `/${azure.entra.tenantId}/oauth2/v2.0/token`,
    {
      form: {
        grant_type: "client_credentials",
        client_id: clientId,
        client_secret: clientSecret,
        scope: `https://${KEY_VAULT_DOMAIN}/.default`,
      },
    },
  );
  return (JSON.parse(res.body) as { access_token: string }).access_token;
}

/** What tests do in a fake Key Vault as its admin, through the Key Vault REST API itself. */
export class KeyVaultAdmin {
  private token: string | undefined;
  /** `apiVersion`: one the vault accepts (a vault added with a short list of versions may not take 7.6). */
  constructor(
    private readonly azure: FakeKeyVault,
    readonly url: string,
    private readonly apiVersion = "7.6",
  ) {}

  private async headers(): Promise<Record<string, string>> {
    this.token ??= await keyVaultAdminToken(this.azure);
    return { authorization: `Bearer ${this.token}` };
  }

  private get client() {
    return httpsClient(this.url, this.azure.caFile);
  }

  async put(name: string, value: string, tags: Record<string, string> = {}): Promise<void> {
    await this.client.json("PUT", `/secrets/${name}?api-version=${this.apiVersion}`, {
      body: { value, tags },
      headers: await this.headers(),
    });
  }

  async get(name: string): Promise<{ value: string; tags: Record<string, string>; id: string } | undefined> {
    const res = await this.client.request("GET", `/secrets/${name}?api-version=${this.apiVersion}`, {
      headers: await this.headers(),
    });
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw new Error(`GET ${name} answered ${res.status}: ${res.body}`);
    return JSON.parse(res.body) as { value: string; tags: Record<string, string>; id: string };
  }

  /** Soft delete only: the name stays taken until it is purged or recovered. */
  async softDelete(name: string): Promise<void> {
    await this.client.json("DELETE", `/secrets/${name}?api-version=${this.apiVersion}`, {
      headers: await this.headers(),
      allowed: [404],
    });
  }

  /** Delete and purge: the secret is gone for good. */
  async destroy(name: string): Promise<void> {
    await this.softDelete(name);
    await this.client.json("DELETE", `/deletedsecrets/${name}?api-version=${this.apiVersion}`, {
      headers: await this.headers(),
      allowed: [404],
    });
  }
}
