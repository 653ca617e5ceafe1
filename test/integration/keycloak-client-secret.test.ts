// keycloak-client-secret against a real Keycloak: the secret is read, never regenerated,
// published only when it differs, and a missing realm or client fails by name. Writes are
// counted by Keycloak itself (admin events) and by the API server's audit log.
import { randomBytes } from "node:crypto";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { ExitCode } from "../../steps/core/errors.js";
import { unitPermissions } from "../../steps/runtime/permissions.js";
import { loadUnit } from "../../steps/runtime/unit.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";
import { connectKube } from "../harness/kube.js";
import { Admin } from "../harness/kube-admin.js";
import { KeycloakTestAdmin } from "../harness/keycloak-admin.js";
import { allText, runDag } from "../harness/steps.js";

const registry = await loadKinds(kinds);

const kube = connectKube(inject("kube"));
const admin = new Admin(kube.adminKubeconfig);
const kc = new KeycloakTestAdmin(inject("keycloak"));
const ns = "kind-keycloak";
const realm = "platform";
const extractorSecret = `extractor-${randomBytes(12).toString("hex")}`;

function unit(overrides: Record<string, unknown> = {}, waitTimeoutSeconds = 30) {
  return {
    apiVersion: "reseed.dev/v1alpha1",
    kind: "SeedingUnit",
    metadata: { name: "grafana-oidc" },
    spec: {
      pattern: "extraction",
      waitTimeoutSeconds,
      inputs: { extractorSecret: { secretKeyRef: { name: "keycloak-extractor", key: "client-secret" } } },
      ensure: {
        kind: "keycloak-client-secret",
        with: {
          url: kc.info.url,
          realm,
          clientId: "grafana",
          auth: { clientId: "reseed-extractor", clientSecret: { input: "extractorSecret" } },
          sink: { kubernetesSecret: { name: "grafana-oidc" } },
          ...overrides,
        },
      },
    },
  };
}

let opts: { kubeconfig: string; namespace: string };
const user = `system:serviceaccount:${ns}:unit`;

async function writes<T>(fn: () => Promise<T>): Promise<{ result: T; keycloak: string[]; kube: string[] }> {
  const counter = kc.writeCounter([realm, "master"]);
  const kcMark = await counter.mark();
  const kubeMark = await kube.auditMark();
  const result = await fn();
  return {
    result,
    keycloak: await counter.since(kcMark),
    kube: (await kube.writesSince(kubeMark, { user }))
      .filter((w) => w.resource !== "events")
      .map((w) => `${w.verb} ${w.resource}/${w.name}`),
  };
}

beforeAll(async () => {
  await kc.enableAdminEvents("master");
  await kc.createRealm(realm);
  await kc.createExtractor(realm, "reseed-extractor", extractorSecret);
  await kc.createClient(realm, "grafana");
  await kc.createClient(realm, "spa", { publicClient: true });
  await admin.namespace(ns);
  await admin.putSecret(ns, "keycloak-extractor", { "client-secret": extractorSecret });
  opts = { kubeconfig: await kube.kubeconfigFor(ns, "unit"), namespace: ns };
  await admin.grant(ns, "unit", unitPermissions(loadUnit(unit(), registry), ns));
});

// The sink published and in step with Keycloak: where a test that changes one side starts.
async function published(): Promise<void> {
  expect((await runDag(unit(), opts)).map((r) => r.code)).toEqual([0, 0, 0, 0]);
}

describe("keycloak-client-secret", () => {
  it("publishes the secret Keycloak holds, then reruns with zero writes at Keycloak and Kubernetes", async () => {
    await admin.deleteSecret(ns, "grafana-oidc");
    const before = await kc.clientSecret(realm, "grafana");
    const first = await writes(() => runDag(unit(), opts));
    expect(first.result.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(first.result[2]!.outputs.action).toBe("created");
    expect(first.keycloak).toEqual([]);
    expect(first.kube).toEqual(["create secrets/grafana-oidc"]);
    expect((await admin.readSecret(ns, "grafana-oidc"))?.["client-secret"]).toBe(before);

    const again = await writes(() => runDag(unit(), opts));
    expect(again.result[2]!.outputs.action).toBe("unchanged");
    expect(again.keycloak).toEqual([]);
    expect(again.kube).toEqual([]);
    expect(await kc.clientSecret(realm, "grafana")).toBe(before);
    expect(allText([...first.result, ...again.result])).not.toContain(before);
  });

  it("follows a rotation done in Keycloak: the next run updates only the differing key", async () => {
    await published();
    const rotated = await kc.regenerateSecret(realm, "grafana");
    const run = await writes(() => runDag(unit(), opts));
    expect(run.result.map((r) => r.code)).toEqual([0, 0, 0, 0]);
    expect(run.result[2]!.outputs.action).toBe("updated");
    expect(run.keycloak).toEqual([]);
    expect(run.kube).toEqual(["update secrets/grafana-oidc"]);
    expect((await admin.readSecret(ns, "grafana-oidc"))?.["client-secret"]).toBe(rotated);
    expect(allText(run.result)).not.toContain(rotated);
  });

  it("verify fails when the published copy drifts from Keycloak, and the next ensure corrects it", async () => {
    await published();
    const current = await admin.readSecret(ns, "grafana-oidc");
    await admin.putSecret(ns, "grafana-oidc", { ...current, "client-secret": "edited-by-hand-1234" });
    const runs = await runDag(unit(), opts);
    expect(runs[2]!.outputs.action).toBe("updated");
    expect(runs[3]!.code).toBe(0);
    expect((await admin.readSecret(ns, "grafana-oidc"))?.["client-secret"]).toBe(
      await kc.clientSecret(realm, "grafana"),
    );
  });

  it("fails by name when the client does not exist, writing nothing", async () => {
    const run = await writes(() => runDag(unit({ clientId: "no-such-client" }), opts));
    expect(run.result.map((r) => r.code)).toEqual([0, 0, ExitCode.ensureFailed]);
    expect(run.result[2]!.stdout).toContain("client no-such-client does not exist in realm platform");
    expect(run.keycloak).toEqual([]);
    expect(run.kube).toEqual([]);
  });

  it("fails by name when the realm does not exist", async () => {
    const target = await runDag(
      unit({
        realm: "no-such-realm",
        auth: { realm, clientId: "reseed-extractor", clientSecret: { input: "extractorSecret" } },
      }),
      opts,
    );
    expect(target.map((r) => r.code)).toEqual([0, 0, ExitCode.ensureFailed]);
    expect(target[2]!.stdout).toContain("realm no-such-realm does not exist");
    // The realm the extractor signs in to is a dependency: wait-deps names it when it never appears.
    const auth = await runDag(unit({ realm: "no-such-realm" }, 2), opts);
    expect(auth.map((r) => r.code)).toEqual([0, ExitCode.dependencyTimeout]);
    expect(auth[1]!.stdout).toContain("/realms/no-such-realm/.well-known/openid-configuration");
  });

  it("refuses a public client, which has no secret", async () => {
    const runs = await runDag(unit({ clientId: "spa" }), opts);
    expect(runs[2]!.code).toBe(ExitCode.ensureFailed);
    expect(runs[2]!.stdout).toContain("client spa in realm platform is public");
  });

  it("names the sign-in failure of a wrong extractor secret without echoing it", async () => {
    const wrong = `wrong-${randomBytes(8).toString("hex")}`;
    await admin.putSecret(ns, "keycloak-extractor", { "client-secret": wrong });
    try {
      const runs = await runDag(unit(), opts);
      expect(runs[2]!.code).toBe(ExitCode.ensureFailed);
      expect(runs[2]!.stdout).toContain(
        "client reseed-extractor could not sign in to realm platform: HTTP 401 unauthorized_client",
      );
      expect(allText(runs)).not.toContain(wrong);
    } finally {
      await admin.putSecret(ns, "keycloak-extractor", { "client-secret": extractorSecret });
    }
  });
});
