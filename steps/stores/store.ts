import type { ZodMiniType } from "../core/zod.js";
import type { ObjectAccess } from "../core/access.js";
import type { Dependency } from "../core/spec.js";
import type { ImplicitInput } from "../inputs/implicit.js";
import type { StoreContext } from "./context.js";

/**
 * A place that holds named secret values: a Kubernetes Secret, a Vault KV v2 secret, a
 * Key Vault. Kinds that publish or sync secrets talk to this, never to a client directly,
 * so every authority gets the same write-only-what-differs and never-echo rules.
 */
export interface SecretStore {
  /** "Kubernetes Secret ns/name": for logs and problems; never a value. */
  describe(): string;
  /**
   * The stored values (registered with the redactor) of `keys`; keys that are absent are
   * left out. undefined if the container itself (the Secret, the KV secret) does not exist;
   * a Key Vault always exists. Always by key: a caller that wants one value never reads a
   * whole vault.
   */
  read(keys: string[]): Promise<Record<string, string> | undefined>;
  /** The names of the stored keys, without reading any value. */
  list(): Promise<string[]>;
  /** Writes exactly these keys; keys not named are left as they are. Records the write. */
  write(values: Record<string, string>): Promise<void>;
  /**
   * Each key is a secret of its own (Key Vault), so there is no container: "exists" means
   * any of the keys does.
   */
  keyed?: true;
  /**
   * A non-secret mark kept beside the values (generated-secret's rotation-id): an annotation
   * reseed.dev/<name> on a Kubernetes Secret and a custom-metadata entry reseed-<name> on a
   * Vault KV secret, each one for all of its keys; a tag reseed-<name> on each Key Vault
   * secret. The marks of `keys` as last read, soft-deleted keys' included.
   */
  marks(name: string, keys: string[]): Record<string, string | undefined>;
  /**
   * write(values), and the mark `name` set to `mark.value` on `mark.keys` (when defined), with
   * the store's managed-by marks; a mark that already holds is not written again. Records
   * each write.
   */
  writeMarked(
    values: Record<string, string>,
    mark: { name: string; value: string | undefined; keys: string[] },
  ): Promise<void>;
  /** Removes exactly these keys. Only a kind whose unit asks for deletion calls it. Records the write. */
  remove(keys: string[]): Promise<void>;
  /**
   * Stores with soft delete (Key Vault), where a deleted key's name cannot be written until
   * it is recovered (or purged, which reseed never does).
   */
  softDelete?: {
    /** Which of these absent keys are deleted but recoverable. */
    deleted(keys: string[]): Promise<string[]>;
    /** Brings deleted keys back, old values and all, and returns once they are readable. Records each. */
    recover(keys: string[]): Promise<void>;
  };
}

/**
 * One kind of secret store, the way a unit names it: `{ <key>: <location> }` in any
 * secretLocation. Everything the steps and the chart need to know about a store is here,
 * once: its schema, how to open it, the Kubernetes access a location needs (relative to the
 * location object; none when the store is authorized by its own auth), the auth material it
 * reads from the pod, what wait-deps waits for, and how it is described in logs.
 */
export interface StoreProvider<Key extends string = string, Location = unknown> {
  key: Key;
  schema: ZodMiniType<Location>;
  open(loc: Location, ctx: StoreContext): SecretStore;
  access(verbs: ObjectAccess["verbs"]): ObjectAccess[];
  implicitInputs(loc: Location): ImplicitInput[];
  dependencies(loc: Location): Dependency[];
  describe(loc: Location, namespace: string): string;
  /** Why a key name cannot be stored there, or undefined. */
  keyNameProblem(key: string): string | undefined;
}

/**
 * Reads `keys`, first recovering those the store holds soft-deleted: a deleted name blocks
 * every later write (Key Vault answers 409), so self-healing means bringing it back and then
 * comparing as usual. Recovering is a write; callers run this only once nothing else can fail.
 */
export async function readRecovering(
  store: SecretStore,
  keys: string[],
): Promise<{ current: Record<string, string> | undefined; recovered: string[] }> {
  const current = await store.read(keys);
  const absent = keys.filter((k) => current?.[k] === undefined);
  const soft = store.softDelete;
  if (!soft || !absent.length) return { current, recovered: [] };
  const recovered = await soft.deleted(absent);
  if (!recovered.length) return { current, recovered };
  await soft.recover(recovered);
  return { current: { ...current, ...(await store.read(recovered)) }, recovered };
}

/**
 * Publishes values to a store, writing only the keys that differ; keys it does not name
 * are never touched. The zero-write rerun of every publishing kind rests on this.
 */
export async function publish(store: SecretStore, desired: Record<string, string>): Promise<void> {
  const { current } = await readRecovering(store, Object.keys(desired));
  const differing = Object.keys(desired).filter((k) => current?.[k] !== desired[k]);
  if (differing.length) await store.write(Object.fromEntries(differing.map((k) => [k, desired[k]!])));
}
