import type { Outcome } from "../core/kind.js";

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
  /** Writes exactly these keys; keys not named are left as they are. */
  write(values: Record<string, string>): Promise<void>;
  /** Removes exactly these keys. Only a kind whose unit asks for deletion calls it. */
  remove(keys: string[]): Promise<void>;
}

/**
 * Publishes values to a store, writing only the keys that differ; keys it does not name
 * are never touched. The zero-write rerun of every publishing kind rests on this.
 */
export async function publish(store: SecretStore, desired: Record<string, string>): Promise<Outcome> {
  const current = await store.read(Object.keys(desired));
  const differing = Object.keys(desired).filter((k) => current?.[k] !== desired[k]);
  if (!differing.length) return { action: "unchanged", changes: [] };
  await store.write(Object.fromEntries(differing.map((k) => [k, desired[k]!])));
  return {
    action: current ? "updated" : "created",
    changes: differing.map((k) => `${current && k in current ? "updated" : "wrote"} ${k} in ${store.describe()}`),
  };
}
