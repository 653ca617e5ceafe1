import { readFile } from "node:fs/promises";
import { WorkloadIdentityCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";
import { httpAnswer } from "../../core/errors.js";
import type { Redactor } from "../../core/redact.js";
import { envFileInput, envInput, type ImplicitInput } from "../../inputs/implicit.js";

const WHY = 'Key Vault auth is workload identity: label the pod azure.workload.identity/use: "true" and annotate its ServiceAccount with azure.workload.identity/client-id';

/**
 * What WorkloadIdentityCredential needs, as implicit required inputs (C1): when the webhook
 * did not inject them, validate-inputs names each one. There is no fallback to another
 * credential (no DefaultAzureCredential): in a managed cluster that would hide the miswiring.
 */
export function workloadIdentityInputs(): ImplicitInput[] {
  return [envInput("AZURE_CLIENT_ID", WHY), envInput("AZURE_TENANT_ID", WHY), envFileInput("AZURE_FEDERATED_TOKEN_FILE", WHY)];
}

export interface KeyVaultSecretValue {
  value: string;
  version: string;
  tags: Record<string, string>;
}

export interface KeyVaultClient {
  url: string;
  get(name: string): Promise<KeyVaultSecretValue | undefined>;
  set(name: string, value: string, tags: Record<string, string>): Promise<void>;
  /** Changes the tags of one version; the value and version stay. */
  setTags(name: string, version: string, tags: Record<string, string>): Promise<void>;
  /** Names of the enabled and disabled (not deleted) secrets. */
  names(): Promise<string[]>;
  /** Soft-deletes a secret (the vault's recovery settings apply). */
  remove(name: string): Promise<void>;
}

interface RestErrorLike {
  statusCode?: number;
  code?: string;
  message?: string;
}

/** "HTTP 403 Forbidden: The user, group or application … does not have secrets get permission …", masked and bounded. */
export function describeKeyVaultError(err: unknown, redactor: Redactor): string {
  const e = err as RestErrorLike;
  const message = e.message ?? String(err);
  return typeof e.statusCode === "number" ? httpAnswer(redactor, e.statusCode, e.code, message) : message;
}

/** A client for one vault, authenticated with the pod's workload identity. */
export async function connectKeyVault(url: string, env: NodeJS.ProcessEnv, redactor: Redactor): Promise<KeyVaultClient> {
  const tokenFilePath = env.AZURE_FEDERATED_TOKEN_FILE ?? "";
  // The federated token is a credential too: masked before any error could quote it.
  redactor.register((await readFile(tokenFilePath, "utf8")).trim());
  const credential = new WorkloadIdentityCredential({
    tenantId: env.AZURE_TENANT_ID ?? "",
    clientId: env.AZURE_CLIENT_ID ?? "",
    tokenFilePath,
    ...(env.AZURE_AUTHORITY_HOST ? { authorityHost: env.AZURE_AUTHORITY_HOST } : {}),
    // The authority host comes from the workload identity webhook, which the cluster
    // trusts; instance discovery would only add a call to the public cloud (and for a
    // sovereign or private cloud, one that fails).
    disableInstanceDiscovery: true,
  });
  const client = new SecretClient(url, credential);
  const where = `Key Vault ${url}`;
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw new Error(`${what}: ${describeKeyVaultError(err, redactor)}`);
    }
  };
  return {
    url,
    async get(name) {
      try {
        const s = await client.getSecret(name);
        if (s.value === undefined) return undefined;
        redactor.register(s.value);
        return { value: s.value, version: s.properties.version ?? "", tags: s.properties.tags ?? {} };
      } catch (err) {
        if ((err as RestErrorLike).statusCode === 404) return undefined;
        throw new Error(`read ${where} secret ${name}: ${describeKeyVaultError(err, redactor)}`);
      }
    },
    async set(name, value, tags) {
      redactor.register(value);
      await call(`set ${where} secret ${name}`, () => client.setSecret(name, value, { tags }));
    },
    async setTags(name, version, tags) {
      await call(`tag ${where} secret ${name}`, () => client.updateSecretProperties(name, version, { tags }));
    },
    async names() {
      return call(`list ${where}`, async () => {
        const out: string[] = [];
        for await (const p of client.listPropertiesOfSecrets()) out.push(p.name);
        return out.sort();
      });
    },
    async remove(name) {
      await call(`delete ${where} secret ${name}`, async () => {
        await client.beginDeleteSecret(name);
      });
    },
  };
}
