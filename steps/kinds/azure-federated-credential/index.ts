import * as z from "../../core/zod.js";
import { ExitCode, SeedError } from "../../core/errors.js";
import { defineKind, type Check, type KindContext, type EnsureReport } from "../kind.js";
import { labelSelector } from "../../core/selector.js";
import { inputValue, k8sName } from "../../core/spec.js";
import { httpsUrl } from "../../core/url.js";
import { workloadIdentityInputs } from "../../stores/key-vault/connection.js";
import type { CredentialRef, FederatedCredentials } from "./arm.js";
import { fanOutPermissions, matchingServiceAccounts } from "./fan-out.js";
import {
  CREDENTIAL_NAME,
  NAME_PREFIX,
  planCredential,
  planCredentialFanOut,
  subjectOf,
  type Credential,
  type FicFanOutPlan,
} from "./plan.js";

const common = {
  subscriptionId: inputValue,
  resourceGroup: inputValue,
  issuer: inputValue.check(
    z.describe("The cluster's OIDC issuer URL, usually a runtime-fact input (ConfigMap cluster-facts)."),
  ),
  audiences: z._default(z.array(z.string().check(z.minLength(1))).check(z.minLength(1)), [
    "api://AzureADTokenExchange",
  ]),
  armEndpoint: z
    ._default(httpsUrl, "https://management.azure.com")
    .check(z.describe("Azure Resource Manager; another only for sovereign clouds.")),
};

const single = z.strictObject({
  ...common,
  identityName: inputValue.check(z.describe("The user-assigned managed identity that trusts the ServiceAccount.")),
  name: z
    .string()
    .check(
      z.regex(
        CREDENTIAL_NAME,
        "must be 3-120 characters: letters, digits, - and _, starting with a letter or digit (Azure's rule)",
      ),
      z.describe("The federated identity credential's name."),
    ),
  serviceAccount: z
    .strictObject({ name: k8sName, namespace: z.optional(k8sName) })
    .check(z.describe("The subject: system:serviceaccount:<namespace>:<name>.")),
});

// One credential per matching ServiceAccount (docs/fan-out.md).
const fanOut = z.strictObject({
  ...common,
  identityNames: z
    .array(inputValue)
    .check(
      z.minLength(1),
      z.describe(
        "User-assigned identities the credentials go on, filled in order: Azure allows 20 credentials per identity.",
      ),
    ),
  namePrefix: z
    .string()
    .check(
      z.regex(NAME_PREFIX, "must be 1-40 characters: letters, digits, - and _, starting with a letter or digit"),
      z.describe(
        "Every credential this unit creates is named <namePrefix><namespace>_<serviceAccount>; a prune touches only names with this prefix.",
      ),
    ),
  serviceAccounts: z
    .strictObject({
      selector: z.optional(labelSelector).check(z.describe("The ServiceAccounts' own labels.")),
      namespaceSelector: z.optional(labelSelector).check(z.describe("The labels of the namespaces they are in.")),
    })
    .check(
      z.refine((s) => s.selector !== undefined || s.namespaceSelector !== undefined, {
        message: "give selector, namespaceSelector or both",
      }),
      z.describe("Every ServiceAccount that matches gets a credential, on every run."),
    ),
  prune: z
    ._default(z.boolean(), false)
    .check(
      z.describe(
        "Delete this unit's credentials (by name prefix) whose ServiceAccount no longer matches. Nothing is deleted otherwise.",
      ),
    ),
});

const settings = z.union([single, fanOut]);
type Settings = z.infer<typeof settings>;
type Single = z.infer<typeof single>;
type FanOut = z.infer<typeof fanOut>;
const isFanOut = (s: Settings): s is FanOut => "serviceAccounts" in s;

function issuerOf(ctx: KindContext, s: Settings): string {
  const issuer = ctx.value(s.issuer);
  let url: URL | undefined;
  try {
    url = new URL(issuer);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "https:")
    throw new Error(`the issuer ${issuer} is not an https URL; Azure trusts only https issuers`);
  return issuer;
}

function desired(ctx: KindContext, s: Single): Credential {
  return {
    issuer: issuerOf(ctx, s),
    subject: subjectOf(s.serviceAccount.namespace ?? ctx.namespace, s.serviceAccount.name),
    audiences: s.audiences,
  };
}

async function armOf(ctx: KindContext, s: Settings): Promise<FederatedCredentials> {
  // Loaded here, not with the kind: the Azure SDKs are for ensure-state and verify, and
  // validate-inputs and wait-deps start sooner and smaller without them.
  const { connectArm } = await import("./arm.js");
  return connectArm(
    {
      clientId: ctx.inputs.get("env AZURE_CLIENT_ID")!,
      tenantId: ctx.inputs.get("env AZURE_TENANT_ID")!,
      tokenFile: ctx.inputs.get("env AZURE_FEDERATED_TOKEN_FILE")!,
      // Optional: the webhook sets it; the Azure SDK's default is the public cloud.
      authorityHost: process.env.AZURE_AUTHORITY_HOST,
    },
    { endpoint: s.armEndpoint, subscriptionId: ctx.value(s.subscriptionId) },
    ctx.redactor,
  );
}

async function connect(ctx: KindContext, s: Single): Promise<{ arm: FederatedCredentials; ref: CredentialRef }> {
  return {
    arm: await armOf(ctx, s),
    ref: { resourceGroup: ctx.value(s.resourceGroup), identityName: ctx.value(s.identityName), name: s.name },
  };
}

export const azureFederatedCredential = defineKind<Settings>({
  kind: "azure-federated-credential",
  authority: "runtime-fact",
  description:
    "A federated identity credential on a user-assigned managed identity trusts a ServiceAccount of this cluster's issuer; drift is corrected by upsert.",
  patterns: ["reconciler"],
  spec: settings,
  inputs: [["subscriptionId"], ["resourceGroup"], ["identityName"], ["identityNames", "*"], ["issuer"]].map((path) => ({
    path,
    mustBe: "non-secret" as const,
  })),
  // What Azure workload identity injects into a labelled pod: missing ones fail
  // validate-inputs, by name, with the unit's other inputs (C1).
  implicitInputs: () => workloadIdentityInputs(),
  dependencies: () => [],
  // Nothing in Kubernetes for one credential (Azure RBAC on the identity, through workload
  // identity); a fan-out lists ServiceAccounts (and namespaces) across the cluster.
  access: [],
  clusterAccess: (s) => (isFanOut(s) ? fanOutPermissions(s.serviceAccounts) : []),

  async ensure(ctx, s) {
    if (isFanOut(s)) return ensureFanOut(ctx, s);
    const want = desired(ctx, s);
    const { arm, ref } = await connect(ctx, s);
    const plan = planCredential(s.name, want, await arm.get(ref));
    if (!plan.write) return;
    ctx.log.info({ event: "ensure.plan", plan: plan.changes }, `plan: ${plan.changes.join("; ")}`);
    await arm.put(ref, want);
    ctx.record({
      verb: plan.action,
      object: `federated identity credential ${s.name} of managed identity ${ref.resourceGroup}/${ref.identityName}`,
    });
  },

  async verify(ctx, s) {
    if (isFanOut(s)) return verifyFanOut(ctx, s);
    const want = desired(ctx, s);
    const { arm, ref } = await connect(ctx, s);
    const have = await arm.get(ref);
    const plan = planCredential(s.name, want, have);
    const check: Check = {
      name: `federated credential ${s.name} of identity ${ref.identityName}`,
      ok: !plan.write,
      detail: !plan.write
        ? `trusts ${want.subject} from ${want.issuer}`
        : have
          ? plan.changes.join("; ")
          : "does not exist",
    };
    return [check];
  },
});

/** Reads the matching ServiceAccounts and every identity's credentials, and plans; writes nothing. */
async function planFanOut(
  ctx: KindContext,
  s: FanOut,
): Promise<{ arm: FederatedCredentials; resourceGroup: string; plan: FicFanOutPlan }> {
  const issuer = issuerOf(ctx, s);
  const serviceAccounts = await matchingServiceAccounts(ctx, s.serviceAccounts);
  const arm = await armOf(ctx, s);
  const resourceGroup = ctx.value(s.resourceGroup);
  const identities = [];
  for (const v of s.identityNames) {
    const identity = ctx.value(v);
    identities.push({ identity, credentials: await arm.list({ resourceGroup, identityName: identity }) });
  }
  return {
    arm,
    resourceGroup,
    plan: planCredentialFanOut({
      prefix: s.namePrefix,
      serviceAccounts,
      issuer,
      audiences: s.audiences,
      identities,
      prune: s.prune,
    }),
  };
}

async function ensureFanOut(ctx: KindContext, s: FanOut): Promise<EnsureReport> {
  const { arm, resourceGroup, plan } = await planFanOut(ctx, s);
  if (!plan.ok) {
    throw new SeedError(
      ExitCode.missingInput,
      `too many ServiceAccounts for the identities: ${plan.matches} match, room for ${plan.capacity}; nothing was written`,
      "add a user-assigned identity to identityNames, narrow the selector, or prune",
      [{ subject: "identityNames", message: plan.reason }],
    );
  }
  // Deletes come first: under prune they free the slots the creates need.
  for (const w of plan.writes) {
    const ref = { resourceGroup, identityName: w.identity, name: w.name };
    if (w.action === "pruned") await arm.remove(ref);
    else await arm.put(ref, w.want!);
    ctx.record({
      verb: w.action === "pruned" ? "deleted" : w.action,
      object: `federated identity credential ${w.name} of managed identity ${resourceGroup}/${w.identity}`,
      ...(w.action === "pruned" ? { note: "its ServiceAccount no longer matches (prune)" } : {}),
    });
  }
  return { targets: plan.targets };
}

async function verifyFanOut(ctx: KindContext, s: FanOut): Promise<Check[]> {
  const { plan } = await planFanOut(ctx, s);
  if (!plan.ok) return [{ name: `federated credentials with prefix ${s.namePrefix}`, ok: false, detail: plan.reason }];
  const wanted = plan.targets.filter((t) => t.action !== "kept" && t.action !== "pruned");
  return [
    {
      name: `a federated credential for each matching ServiceAccount (prefix ${s.namePrefix})`,
      ok: !plan.writes.length,
      detail: `${wanted.filter((t) => t.action === "unchanged").length} of ${wanted.length} in place`,
    },
    ...plan.writes.map((w) => ({
      name: `federated credential ${w.name} of identity ${w.identity}`,
      ok: false,
      detail:
        w.action === "created"
          ? "does not exist"
          : w.action === "pruned"
            ? "its ServiceAccount no longer matches and it should have been pruned"
            : w.changes.join("; "),
    })),
  ];
}
