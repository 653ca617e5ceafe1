// The pure decision of what generated-secret writes, so its rules are tested without I/O:
// missing keys are added, existing values are kept forever, and only a changed rotationId
// (a deliberate Git change) replaces them. A value that carries no rotationId yet was made
// by someone else or before rotation was configured: it is adopted (the id is recorded),
// never rotated, because it may be the only copy. A soft-deleted value is recovered, not
// regenerated: it is still the value every consumer was given.
//
// The plan is per key because a Key Vault holds one secret per key, each with its own tags;
// a Kubernetes Secret or a Vault KV secret records one rotationId for all of its keys.

/** The store mark the rotationId is kept in: annotation reseed.dev/rotation-id, tag or custom metadata reseed-rotation-id. */
export const ROTATION_MARK = "rotation-id";

export interface CurrentKeys {
  /** Whether the container (Secret, KV secret) exists; a Key Vault: whether any listed key exists. */
  exists: boolean;
  /** Keys that hold a value now. */
  present: string[];
  /** The rotationId recorded for each present (or recoverable) key, if any. */
  rotationIds: Record<string, string | undefined>;
  /**
   * Keys deleted but recoverable (Key Vault soft delete). Their value is the one generated
   * before: it is recovered, never replaced by a new one (generate-once), never purged.
   */
  recoverable?: string[];
}

export interface KeysPlan {
  /** Keys to generate a value for: missing ones and rotated ones. */
  generate: string[];
  rotated: string[];
  /** Present keys whose rotationId is recorded without changing the value. */
  adopt: string[];
  /** Soft-deleted keys to recover, before anything else is written. */
  recover: string[];
  changes: string[];
}

const list = (keys: string[]) => keys.join(", ");

export function planKeys(current: CurrentKeys, keys: string[], rotationId: string | undefined): KeysPlan {
  const recover = keys.filter((k) => current.recoverable?.includes(k));
  if (!current.exists && !recover.length) {
    return {
      generate: [...keys],
      rotated: [],
      adopt: [],
      recover: [],
      changes: [`created with key${keys.length === 1 ? "" : "s"} ${list(keys)}`],
    };
  }
  // A recoverable key counts as present: its old value comes back, with the rotationId it had.
  const present = new Set([...current.present, ...recover]);
  const missing = keys.filter((k) => !present.has(k));
  const rotated =
    rotationId === undefined
      ? []
      : keys.filter(
          (k) => present.has(k) && current.rotationIds[k] !== undefined && current.rotationIds[k] !== rotationId,
        );
  const adopt =
    rotationId === undefined ? [] : keys.filter((k) => present.has(k) && current.rotationIds[k] === undefined);
  const byOldId = new Map<string, string[]>();
  for (const k of rotated) byOldId.set(current.rotationIds[k]!, [...(byOldId.get(current.rotationIds[k]!) ?? []), k]);
  return {
    generate: keys.filter((k) => missing.includes(k) || rotated.includes(k)),
    rotated,
    adopt,
    recover,
    changes: [
      ...(recover.length ? [`recovered soft-deleted ${list(recover)} (value kept)`] : []),
      ...[...byOldId].map(([old, ks]) => `rotated ${list(ks)} (rotationId ${old} -> ${rotationId})`),
      ...missing.map((k) => `added missing key ${k}`),
      ...(adopt.length ? [`adopted existing values under rotationId ${rotationId}`] : []),
    ],
  };
}
