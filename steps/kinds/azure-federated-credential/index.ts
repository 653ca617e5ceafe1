import { z } from "zod";
import { defineKind, type Check, type KindContext } from "../kind.js";
import { inputValue, k8sName } from "../../core/spec.js";
import { httpsUrl } from "../../core/url.js";
import { workloadIdentityInputs } from "../../stores/key-vault/connection.js";
import { connectArm, type CredentialRef, type FederatedCredentials } from "./arm.js";
import { planCredential, subjectOf, type Credential } from "./plan.js";

const settings = z.strictObject({
  subscriptionId: inputValue,
  resourceGroup: inputValue,
  identityName: inputValue.describe("The user-assigned managed identity that trusts the ServiceAccount."),
  name: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$/, "must be 3-120 characters: letters, digits, - and _, starting with a letter or digit (Azure's rule)")
    .describe("The federated identity credential's name."),
  issuer: inputValue.describe("The cluster's OIDC issuer URL, usually a runtime-fact input (ConfigMap cluster-facts)."),
  serviceAccount: z.strictObject({ name: k8sName, namespace: k8sName.optional() }).describe("The subject: system:serviceaccount:<namespace>:<name>."),
  audiences: z.array(z.string().min(1)).min(1).default(["api://AzureADTokenExchange"]),
  armEndpoint: httpsUrl.default("https://management.azure.com").describe("Azure Resource Manager; another only for sovereign clouds."),
});
type Settings = z.infer<typeof settings>;

function desired(ctx: KindContext, s: Settings): Credential {
  const issuer = ctx.value(s.issuer);
  let url: URL | undefined;
  try {
    url = new URL(issuer);
  } catch {
    url = undefined;
  }
  if (url?.protocol !== "https:") throw new Error(`the issuer ${issuer} is not an https URL; Azure trusts only https issuers`);
  return { issuer, subject: subjectOf(s.serviceAccount.namespace ?? ctx.namespace, s.serviceAccount.name), audiences: s.audiences };
}

async function connect(ctx: KindContext, s: Settings): Promise<{ arm: FederatedCredentials; ref: CredentialRef }> {
  const arm = await connectArm(
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
  return { arm, ref: { resourceGroup: ctx.value(s.resourceGroup), identityName: ctx.value(s.identityName), name: s.name } };
}

export const azureFederatedCredential = defineKind<Settings>({
  kind: "azure-federated-credential",
  authority: "runtime-fact",
  description: "A federated identity credential on a user-assigned managed identity trusts a ServiceAccount of this cluster's issuer; drift is corrected by upsert.",
  patterns: ["reconciler"],
  spec: settings,
  inputs: ["subscriptionId", "resourceGroup", "identityName", "issuer"].map((field) => ({ path: [field], mustBe: "non-secret" })),
  // What Azure workload identity injects into a labelled pod: missing ones fail
  // validate-inputs, by name, with the unit's other inputs (C1).
  implicitInputs: () => workloadIdentityInputs(),
  dependencies: () => [],
  access: [],

  async ensure(ctx, s) {
    const want = desired(ctx, s);
    const { arm, ref } = await connect(ctx, s);
    const plan = planCredential(s.name, want, await arm.get(ref));
    if (!plan.write) return { action: "unchanged", changes: [] };
    await arm.put(ref, want);
    return { action: plan.action, changes: plan.changes };
  },

  async verify(ctx, s) {
    const want = desired(ctx, s);
    const { arm, ref } = await connect(ctx, s);
    const have = await arm.get(ref);
    const plan = planCredential(s.name, want, have);
    const check: Check = {
      name: `federated credential ${s.name} of identity ${ref.identityName}`,
      ok: !plan.write,
      detail: !plan.write ? `trusts ${want.subject} from ${want.issuer}` : have ? plan.changes.join("; ") : "does not exist",
    };
    return [check];
  },
});
