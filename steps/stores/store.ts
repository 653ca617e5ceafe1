/**
 * A place that holds named secret values: a Kubernetes Secret, a Vault KV v2 secret, a
 * Key Vault. Kinds that publish or sync secrets talk to this, never to a client directly,
 * so every authority gets the same write-only-what-differs and never-echo rules.
 */
export interface SecretStore {
  /** "Kubernetes Secret ns/name": for logs and problems; never a value. */
  describe(): string;
  /**
   * The stored values (registered with the redactor) of `keys`, or of every key when
   * omitted; keys that are absent are left out. undefined if the container itself (the
   * Secret, the KV secret) does not exist; a Key Vault always exists.
   */
  read(keys?: string[]): Promise<Record<string, string> | undefined>;
  /** The names of the stored keys, without reading any value. */
  list(): Promise<string[]>;
  /** Writes exactly these keys; keys not named are left as they are. Records the write. */
  write(values: Record<string, string>): Promise<void>;
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
 * Reads `keys`, first recovering those the store holds soft-deleted: a deleted name blocks
 * every later write (Key Vault answers 409), so self-healing means bringing it back and then
 * comparing as usual. Recovering is a write; callers run this only once nothing else can fail.
 */
export async function readRecovering(store: SecretStore, keys: string[]): Promise<{ current: Record<string, string> | undefined; recovered: string[] }> {
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
