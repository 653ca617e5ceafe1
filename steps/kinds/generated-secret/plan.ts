// The pure decision of what generated-secret writes, so its rules are tested without I/O:
// missing keys are added, existing values are kept forever, and only a changed rotationId
// (a deliberate Git change) replaces them. A value that carries no rotationId yet was made
// by someone else or before rotation was configured: it is adopted (the id is recorded),
// never rotated, because it may be the only copy.
//
// The plan is per key because a Key Vault holds one secret per key, each with its own tags;
// a Kubernetes Secret or a Vault KV secret records one rotationId for all of its keys.

export const ROTATION_ANNOTATION = "reseed.dev/rotation-id";

export interface CurrentKeys {
  /** Whether the container (Secret, KV secret) exists; a Key Vault: whether any listed key exists. */
  exists: boolean;
  /** Keys that hold a value now. */
  present: string[];
  /** The rotationId recorded for each present key, if any. */
  rotationIds: Record<string, string | undefined>;
}

export interface KeysPlan {
  create: boolean;
  /** Keys to generate a value for: missing ones and rotated ones. */
  generate: string[];
  rotated: string[];
  /** Present keys whose rotationId is recorded without changing the value. */
  adopt: string[];
  changes: string[];
}

const list = (keys: string[]) => keys.join(", ");

export function planKeys(current: CurrentKeys, keys: string[], rotationId: string | undefined): KeysPlan {
  if (!current.exists) {
    return { create: true, generate: [...keys], rotated: [], adopt: [], changes: [`created with key${keys.length === 1 ? "" : "s"} ${list(keys)}`] };
  }
  const present = new Set(current.present);
  const missing = keys.filter((k) => !present.has(k));
  const rotated = rotationId === undefined ? [] : keys.filter((k) => present.has(k) && current.rotationIds[k] !== undefined && current.rotationIds[k] !== rotationId);
  const adopt = rotationId === undefined ? [] : keys.filter((k) => present.has(k) && current.rotationIds[k] === undefined);
  const byOldId = new Map<string, string[]>();
  for (const k of rotated) byOldId.set(current.rotationIds[k]!, [...(byOldId.get(current.rotationIds[k]!) ?? []), k]);
  return {
    create: false,
    generate: keys.filter((k) => missing.includes(k) || rotated.includes(k)),
    rotated,
    adopt,
    changes: [
      ...[...byOldId].map(([old, ks]) => `rotated ${list(ks)} (rotationId ${old} -> ${rotationId})`),
      ...missing.map((k) => `added missing key ${k}`),
      ...(adopt.length ? [`adopted existing values under rotationId ${rotationId}`] : []),
    ],
  };
}
