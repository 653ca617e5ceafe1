import { readFile } from "node:fs/promises";
import { changedKeys, type RecordChange } from "../../core/changes.js";
import { httpAnswer } from "../../core/errors.js";
import type { Redactor } from "../../core/redact.js";
import { envInput, fileInput, type ImplicitInput } from "../../inputs/implicit.js";
import type { VaultAuth, VaultConnection } from "../../core/vault-schema.js";

const WHY_KUBERNETES =
  "Vault kubernetes auth logs in with the pod's ServiceAccount token; automountServiceAccountToken must not be off";
const WHY_TOKEN = "Vault token auth reads the token from the pod; mount or inject it";

/** The auth material a connection reads, reported by validate-inputs when missing (C1). */
export function vaultImplicitInputs(auth: VaultAuth): ImplicitInput[] {
  if ("kubernetes" in auth) return [fileInput(auth.kubernetes.tokenFile, WHY_KUBERNETES, true)];
  if ("env" in auth.token) return [envInput(auth.token.env, WHY_TOKEN, true)];
  return [fileInput(auth.token.file, WHY_TOKEN, true)];
}

export interface KvSecret {
  /** undefined when the secret has metadata but its current version is deleted. */
  data: Record<string, string> | undefined;
  /** The current version (what check-and-set must name); 0 when nothing was ever written. */
  version: number;
  customMetadata: Record<string, string>;
}

export interface VaultClient {
  describe(mount: string, path: string): string;
  readKv(mount: string, path: string): Promise<KvSecret | undefined>;
  /** Writes a whole KV v2 secret with check-and-set on `cas`: a concurrent writer makes it fail. */
  writeKv(mount: string, path: string, data: Record<string, string>, cas: number): Promise<number>;
  writeCustomMetadata(mount: string, path: string, custom: Record<string, string>): Promise<void>;
}

interface ApiResponseError {
  response?: { statusCode?: number; body?: { errors?: unknown[] } };
}

/**
 * "HTTP 403: permission denied": Vault's own words, without its "1 error occurred:" framing.
 * The framing is taken off after masking: Vault quotes request values in its errors.
 */
export function describeVaultError(err: unknown, redactor: Redactor): string {
  const res = (err as ApiResponseError).response;
  if (res?.statusCode !== undefined) {
    const errors = (res.body?.errors ?? [])
      .map((e) =>
        redactor
          .mask(String(e))
          .replace(/^\d+ errors? occurred:\s*/, "")
          .replace(/\s*\*\s*/g, " ")
          .trim(),
      )
      .filter(Boolean);
    return httpAnswer(redactor, res.statusCode, undefined, errors.join("; "));
  }
  return err instanceof Error ? err.message : String(err);
}

const status = (err: unknown) => (err as ApiResponseError).response?.statusCode;

async function call<T>(what: string, fn: () => Promise<T>, redactor: Redactor): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw new Error(`${what}: ${describeVaultError(err, redactor)}`);
  }
}

const kvPath = (mount: string, kind: "data" | "metadata", path: string) =>
  `/${mount}/${kind}/${path.split("/").map(encodeURIComponent).join("/")}`;

/**
 * Logs in and returns a KV v2 client. Every token it handles is registered with the redactor
 * first. Every write it makes goes to `record` once Vault accepted it, with the keys it
 * changed against what this client last read there.
 */
export async function connectVault(
  conn: VaultConnection,
  env: NodeJS.ProcessEnv,
  redactor: Redactor,
  record: RecordChange,
  timeoutMs = 15_000,
): Promise<VaultClient> {
  // Loaded here, not with this module: node-vault and axios are loaded by a step only when its
  // unit uses Vault (a step starts sooner and uses less memory). Explicit settings only: node-vault
  // would otherwise take VAULT_ADDR, VAULT_TOKEN, VAULT_NAMESPACE and VAULT_SKIP_VERIFY from
  // the environment (C5: no hidden fallbacks).
  const { default: vault } = await import("node-vault");
  const client = vault({
    endpoint: conn.address,
    apiVersion: "v1",
    requestOptions: { strictSSL: true, timeout: timeoutMs },
  });
  (client as { namespace?: string | undefined }).namespace = conn.namespace;
  client.token = "";
  const where = `Vault ${conn.address}${conn.namespace ? ` namespace ${conn.namespace}` : ""}`;

  if ("kubernetes" in conn.auth) {
    const { role, mount, tokenFile } = conn.auth.kubernetes;
    const jwt = (await readFile(tokenFile, "utf8")).trim();
    redactor.register(jwt);
    const res = await call(
      `${where}: kubernetes login as role ${role} (auth/${mount})`,
      () => client.kubernetesLogin({ role, jwt, mount_point: mount }),
      redactor,
    );
    const token = (res as { auth?: { client_token?: string } }).auth?.client_token;
    if (!token) throw new Error(`${where}: kubernetes login as role ${role} returned no token`);
    redactor.register(token);
    client.token = token;
  } else {
    const token =
      "env" in conn.auth.token ? env[conn.auth.token.env] : (await readFile(conn.auth.token.file, "utf8")).trim();
    if (!token) throw new Error(`${where}: the Vault token is empty`);
    redactor.register(token);
    client.token = token;
  }

  const describe = (mount: string, path: string) => `${where} ${mount}/${path}`;
  // What was read at each path: a write's change names the keys it changed, not the whole secret.
  const seen = new Map<string, { data: Record<string, string>; customMetadata: Record<string, string> }>();
  return {
    describe,
    async readKv(mount, path) {
      try {
        const res = (await client.request({
          path: kvPath(mount, "data", path),
          method: "GET",
          timeout: timeoutMs,
        })) as {
          data: {
            data: Record<string, string> | null;
            metadata: { version: number; custom_metadata: Record<string, string> | null };
          };
        };
        const data = res.data.data ?? undefined;
        for (const v of Object.values(data ?? {})) redactor.register(String(v));
        const kv = {
          data: data && Object.fromEntries(Object.entries(data).map(([k, v]) => [k, String(v)])),
          version: res.data.metadata.version,
          customMetadata: res.data.metadata.custom_metadata ?? {},
        };
        seen.set(describe(mount, path), { data: kv.data ?? {}, customMetadata: kv.customMetadata });
        return kv;
      } catch (err) {
        if (status(err) !== 404) throw new Error(`read ${describe(mount, path)}: ${describeVaultError(err, redactor)}`);
        // A deleted current version still has metadata, and check-and-set must name its version.
        const meta = (
          err as {
            response: {
              body?: { data?: { metadata?: { version?: number; custom_metadata?: Record<string, string> | null } } };
            };
          }
        ).response.body?.data?.metadata;
        seen.set(describe(mount, path), { data: {}, customMetadata: meta?.custom_metadata ?? {} });
        return meta?.version
          ? { data: undefined, version: meta.version, customMetadata: meta.custom_metadata ?? {} }
          : undefined;
      }
    },
    async writeKv(mount, path, data, cas) {
      for (const v of Object.values(data)) redactor.register(v);
      const res = await call(
        `write ${describe(mount, path)} (check-and-set version ${cas})`,
        () =>
          client.request({
            path: kvPath(mount, "data", path),
            method: "POST",
            json: { options: { cas }, data },
            timeout: timeoutMs,
          }),
        redactor,
      );
      const object = describe(mount, path);
      const before = seen.get(object)?.data ?? {};
      const changed = changedKeys(before, data);
      const removed = Object.keys(before)
        .filter((k) => !(k in data))
        .sort();
      seen.set(object, { data, customMetadata: seen.get(object)?.customMetadata ?? {} });
      // check-and-set 0 succeeds only where no version exists: the secret was created.
      if (cas === 0) record({ verb: "created", object, keys: changed });
      else if (removed.length && !changed.length) record({ verb: "deleted", object, keys: removed });
      else
        record({
          verb: "updated",
          object,
          keys: changed,
          ...(removed.length ? { note: `deleted ${removed.join(", ")}` } : {}),
        });
      return (res as { data: { version: number } }).data.version;
    },
    async writeCustomMetadata(mount, path, custom) {
      await call(
        `write metadata of ${describe(mount, path)}`,
        () =>
          client.request({
            path: kvPath(mount, "metadata", path),
            method: "POST",
            json: { custom_metadata: custom },
            timeout: timeoutMs,
          }),
        redactor,
      );
      const object = describe(mount, path);
      const before = seen.get(object)?.customMetadata ?? {};
      seen.set(object, { data: seen.get(object)?.data ?? {}, customMetadata: custom });
      record({ verb: "updated", object: `${object} metadata`, keys: changedKeys(before, custom) });
    },
  };
}
