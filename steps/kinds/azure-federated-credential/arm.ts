import { readFile } from "node:fs/promises";
import type { AccessToken, GetTokenOptions, TokenCredential } from "@azure/identity";
import { WorkloadIdentityCredential } from "@azure/identity";
import { ManagedServiceIdentityClient } from "@azure/arm-msi";
import { httpAnswer } from "../../core/errors.js";
import type { Redactor } from "../../core/redact.js";
import type { Credential } from "./plan.js";

// The documented GA api-version of federated identity credentials, pinned so the requests
// do not change with an SDK upgrade.
const API_VERSION = "2023-01-31";

export interface WorkloadIdentity {
  clientId: string;
  tenantId: string;
  tokenFile: string;
  authorityHost?: string | undefined;
}

export interface CredentialRef {
  resourceGroup: string;
  identityName: string;
  name: string;
}

export interface FederatedCredentials {
  get(ref: CredentialRef): Promise<Partial<Credential> | undefined>;
  put(ref: CredentialRef, want: Credential): Promise<void>;
  /** Every credential of an identity, by name (a fan-out counts the identity's slots with it). */
  list(ref: Omit<CredentialRef, "name">): Promise<Map<string, Partial<Credential>>>;
  remove(ref: CredentialRef): Promise<void>;
}

const fromArm = (fic: { issuer?: string; subject?: string; audiences?: string[] }): Partial<Credential> => ({
  ...(fic.issuer ? { issuer: fic.issuer } : {}),
  ...(fic.subject ? { subject: fic.subject } : {}),
  audiences: fic.audiences ?? [],
});

/** Every token the SDK obtains is registered with the redactor before it is used. */
function redacting(inner: TokenCredential, redactor: Redactor): TokenCredential {
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      const token = await inner.getToken(scopes, options);
      if (token) redactor.register(token.token);
      return token;
    },
  };
}

/**
 * Workload identity only: the pod's projected service-account token is exchanged at Entra
 * for an ARM token. Never DefaultAzureCredential, whose chain would fall back to whatever
 * other credential the environment happens to offer (C5).
 */
export async function connectArm(
  identity: WorkloadIdentity,
  arm: { endpoint: string; subscriptionId: string },
  redactor: Redactor,
): Promise<FederatedCredentials> {
  let assertion: string;
  try {
    assertion = (await readFile(identity.tokenFile, "utf8")).trim();
  } catch (err) {
    throw new Error(
      `the federated token file ${identity.tokenFile} (AZURE_FEDERATED_TOKEN_FILE) cannot be read: ${(err as NodeJS.ErrnoException).code ?? "error"}; is the pod labelled azure.workload.identity/use: "true"?`,
    );
  }
  redactor.register(assertion);
  const credential = new WorkloadIdentityCredential({
    clientId: identity.clientId,
    tenantId: identity.tenantId,
    tokenFilePath: identity.tokenFile,
    ...(identity.authorityHost ? { authorityHost: identity.authorityHost } : {}),
    // The authority is the one the workload identity webhook injected; MSAL's instance
    // discovery would otherwise ask a fixed public host about it first.
    disableInstanceDiscovery: true,
  });
  const fics = new ManagedServiceIdentityClient(redacting(credential, redactor), arm.subscriptionId, {
    endpoint: arm.endpoint,
    apiVersion: API_VERSION,
  }).federatedIdentityCredentials;
  return {
    async get(ref) {
      try {
        return fromArm(await fics.get(ref.resourceGroup, ref.identityName, ref.name));
      } catch (err) {
        // A missing identity also answers 404 here; the PUT that follows then names it.
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        throw armError(err, `reading federated credential ${ref.name} of identity ${ref.identityName}`, redactor);
      }
    },
    async put(ref, want) {
      try {
        await fics.createOrUpdate(ref.resourceGroup, ref.identityName, ref.name, {
          issuer: want.issuer,
          subject: want.subject,
          audiences: want.audiences,
        });
      } catch (err) {
        throw armError(err, `writing federated credential ${ref.name} of identity ${ref.identityName}`, redactor);
      }
    },
    async list(ref) {
      const out = new Map<string, Partial<Credential>>();
      try {
        for await (const fic of fics.list(ref.resourceGroup, ref.identityName))
          if (fic.name) out.set(fic.name, fromArm(fic));
      } catch (err) {
        throw armError(err, `listing the federated credentials of identity ${ref.identityName}`, redactor);
      }
      return out;
    },
    async remove(ref) {
      try {
        await fics.delete(ref.resourceGroup, ref.identityName, ref.name);
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return;
        throw armError(err, `deleting federated credential ${ref.name} of identity ${ref.identityName}`, redactor);
      }
    },
  };
}

/** ARM's own code and message, masked and bounded (a proxy or a validation error can quote the request); never the request. */
function armError(err: unknown, what: string, redactor: Redactor): Error {
  const e = err as { statusCode?: number; code?: string; message?: string };
  const message = e.message ?? String(err);
  return new Error(
    `${what}: ${typeof e.statusCode === "number" ? httpAnswer(redactor, e.statusCode, e.code, message) : message}`,
  );
}
