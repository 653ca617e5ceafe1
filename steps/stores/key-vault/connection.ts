import { readFile } from "node:fs/promises";
import type { KeyVaultSecret } from "@azure/keyvault-secrets";
import type { RecordChange } from "../../core/changes.js";
import { httpAnswer } from "../../core/errors.js";
import { sleep } from "../../core/retry.js";
import type { Redactor } from "../../core/redact.js";
import { envFileInput, envInput, type ImplicitInput } from "../../inputs/implicit.js";
import type { KeyVaultApiVersion } from "../../core/key-vault-schema.js";

const WHY =
  'Key Vault auth is workload identity: label the pod azure.workload.identity/use: "true" and annotate its ServiceAccount with azure.workload.identity/client-id';

/**
 * What WorkloadIdentityCredential needs, as implicit required inputs (C1): when the webhook
 * did not inject them, validate-inputs names each one. There is no fallback to another
 * credential (no DefaultAzureCredential): in a managed cluster that would hide the miswiring.
 */
export function workloadIdentityInputs(): ImplicitInput[] {
  return [
    envInput("AZURE_CLIENT_ID", WHY),
    envInput("AZURE_TENANT_ID", WHY),
    envFileInput("AZURE_FEDERATED_TOKEN_FILE", WHY),
  ];
}

export interface KeyVaultSecretValue {
  value: string;
  version: string;
  tags: Record<string, string>;
}

/** A secret in the deleted-but-recoverable state of a soft-delete vault (no value: that comes back with recover). */
export interface KeyVaultDeletedSecret {
  tags: Record<string, string>;
}

export interface KeyVaultClient {
  url: string;
  /** The secret, or undefined when the vault answers SecretNotFound; any other answer throws. */
  get(name: string): Promise<KeyVaultSecretValue | undefined>;
  set(name: string, value: string, tags: Record<string, string>): Promise<void>;
  /** Changes the tags of one version; the value and version stay. */
  setTags(name: string, version: string, tags: Record<string, string>): Promise<void>;
  /** Names of the enabled and disabled (not deleted) secrets. */
  names(): Promise<string[]>;
  /** Soft-deletes a secret (the vault's recovery settings apply). */
  remove(name: string): Promise<void>;
  /** The secret if it is deleted but recoverable (needs the get permission), else undefined. */
  deleted(name: string): Promise<KeyVaultDeletedSecret | undefined>;
  /** Recovers a deleted secret, all its versions and tags, and waits (bounded) until it is readable. */
  recover(name: string): Promise<KeyVaultSecretValue>;
}

/** The Key Vault secret-level permissions, as access policies and error messages name them. */
export type KeyVaultPermission = "get" | "list" | "set" | "delete" | "recover";

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

/**
 * Only the service's SecretNotFound means "no such secret". Any other 404 (a vault name that
 * a shared endpoint or gateway does not know, a wrong path) is not a missing key: taking it
 * for one would report keys as missing, or make generated-secret write into nowhere.
 */
const isSecretNotFound = (err: unknown) =>
  (err as RestErrorLike).statusCode === 404 && (err as RestErrorLike).code === "SecretNotFound";

/** A whole request failed in a way that is about the vault, not the secret: say so, and what to check. */
function vaultProblem(where: string, err: unknown, redactor: Redactor): string | undefined {
  const e = err as RestErrorLike;
  if (e.statusCode === 404 && e.code !== "SecretNotFound") {
    return `${where} was not found (${describeKeyVaultError(err, redactor)}); this is not a missing secret: check keyVault.url names an existing vault`;
  }
  return undefined;
}

/** How long a recovered secret may take to become readable (Key Vault documents "several seconds"). */
const RECOVER_WAIT_MS = 60_000;
const RECOVER_POLL_MS = 1_000;

/** The fix for a 403, named per permission: an access policy or an RBAC role grants it. */
function grantHint(permission: KeyVaultPermission): string {
  const role = permission === "get" || permission === "list" ? "Key Vault Secrets User" : "Key Vault Secrets Officer";
  return `grant the unit's identity the secrets ${permission} permission (an access policy with "${permission}", or with Azure RBAC a role such as ${role})`;
}

/**
 * The error for a failed request: a missing vault as such, a 403 with the permission it lacks
 * and how to grant it, a 400 with the API version sent (list paging reports a 400 without the
 * service's message, and an API version the vault or a gateway does not accept is its usual cause).
 */
function failure(
  where: string,
  what: string,
  permission: KeyVaultPermission,
  apiVersion: string | undefined,
  err: unknown,
  redactor: Redactor,
): Error {
  const status = (err as RestErrorLike).statusCode;
  const hint =
    status === 403
      ? `; ${grantHint(permission)}`
      : status === 400
        ? apiVersion
          ? `; the request carried the pinned api-version ${apiVersion}: check the vault or gateway accepts it`
          : "; the client sent its newest api-version: if the vault or a gateway in front of it lags behind, pin keyVault.apiVersion"
        : "";
  return new Error(vaultProblem(where, err, redactor) ?? `${what}: ${describeKeyVaultError(err, redactor)}${hint}`);
}

export interface KeyVaultConnectionSettings {
  url: string;
  apiVersion?: KeyVaultApiVersion | undefined;
}

/** A client for one vault, authenticated with the pod's workload identity. */
export async function connectKeyVault(
  loc: KeyVaultConnectionSettings,
  env: NodeJS.ProcessEnv,
  redactor: Redactor,
  record: RecordChange,
): Promise<KeyVaultClient> {
  // Loaded here, not with this module: the Azure SDK is loaded by a step only when its unit
  // uses Key Vault (a step starts sooner and uses less memory).
  const [{ WorkloadIdentityCredential }, { SecretClient }] = await Promise.all([
    import("@azure/identity"),
    import("@azure/keyvault-secrets"),
  ]);
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
  // serviceVersion is sent as api-version on every request, and list paging follows the
  // service's nextLink, which carries the version of the request that produced it.
  const client = new SecretClient(loc.url, credential, loc.apiVersion ? { serviceVersion: loc.apiVersion } : {});
  const url = loc.url;
  const where = `Key Vault ${url}`;
  const apiVersion = loc.apiVersion;
  const value = (s: KeyVaultSecret): KeyVaultSecretValue | undefined => {
    if (s.value === undefined) return undefined;
    redactor.register(s.value);
    return { value: s.value, version: s.properties.version ?? "", tags: s.properties.tags ?? {} };
  };
  // Which secrets this client has read as existing: a set on one of them is an update, on
  // any other a creation (every writer reads before it writes).
  const exists = new Set<string>();
  const get = async (name: string) => {
    try {
      const found = value(await client.getSecret(name));
      if (found) exists.add(name);
      return found;
    } catch (err) {
      if (isSecretNotFound(err)) return undefined;
      throw failure(where, `read ${where} secret ${name}`, "get", apiVersion, err, redactor);
    }
  };
  const call = async <T>(what: string, permission: KeyVaultPermission, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw failure(where, what, permission, apiVersion, err, redactor);
    }
  };
  return {
    url,
    get,
    async set(name, secretValue, tags) {
      redactor.register(secretValue);
      await call(`set ${where} secret ${name}`, "set", () => client.setSecret(name, secretValue, { tags }));
      record({ verb: exists.has(name) ? "updated" : "created", object: `${where} secret ${name}` });
      exists.add(name);
    },
    async setTags(name, version, tags) {
      await call(`tag ${where} secret ${name}`, "set", () => client.updateSecretProperties(name, version, { tags }));
      record({ verb: "updated", object: `${where} secret ${name}`, note: "tags only" });
    },
    async names() {
      return call(`list ${where}`, "list", async () => {
        const out: string[] = [];
        for await (const p of client.listPropertiesOfSecrets()) out.push(p.name);
        return out.sort();
      });
    },
    async remove(name) {
      await call(`delete ${where} secret ${name}`, "delete", async () => {
        await client.beginDeleteSecret(name);
      });
      record({ verb: "deleted", object: `${where} secret ${name}`, note: "soft delete: recoverable" });
      exists.delete(name);
    },
    async deleted(name) {
      try {
        const d = await client.getDeletedSecret(name);
        return { tags: d.properties.tags ?? {} };
      } catch (err) {
        if (isSecretNotFound(err)) return undefined;
        throw failure(where, `read deleted ${where} secret ${name}`, "get", apiVersion, err, redactor);
      }
    },
    async recover(name) {
      // validate-inputs cannot see the vault's access policies: a 403 here is the first
      // sign of a missing recover permission, so it says which one and how to grant it.
      await call(`recover soft-deleted ${where} secret ${name}`, "recover", async () => {
        await client.beginRecoverDeletedSecret(name);
      });
      record({ verb: "recovered", object: `${where} secret ${name}` });
      // Recovery is a long-running operation: the secret answers SecretNotFound until it is
      // back. Polled at a fixed interval, up to a deadline (the step's own retry loop).
      const deadline = Date.now() + RECOVER_WAIT_MS;
      for (;;) {
        const back = await get(name);
        if (back) return back;
        if (Date.now() >= deadline)
          throw new Error(
            `recover ${where} secret ${name}: still not readable ${RECOVER_WAIT_MS / 1000} s after the recovery was accepted`,
          );
        await sleep(RECOVER_POLL_MS);
      }
    },
  };
}
