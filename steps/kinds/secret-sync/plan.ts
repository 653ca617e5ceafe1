// The pure decisions of secret-sync: which destination key each source key goes to, and what
// a run writes. Only what differs is written; a differing destination value is corrected or
// only reported, as the unit says; nothing is deleted unless the unit prunes; a soft-deleted
// destination key is recovered (by the caller) and then written only if it differs.

export type KeyMapping = string | { from: string; to: string };
export interface PrefixMapping {
  from: string;
  to?: string | undefined;
}
export type Drift = "correct" | "report";

export interface Pair {
  from: string;
  to: string;
}

export function explicitPairs(keys: KeyMapping[]): Pair[] {
  return keys.map((k) => (typeof k === "string" ? { from: k, to: k } : k));
}

/** Source keys under the prefix, renamed by swapping the prefix. */
export function prefixPairs(prefix: PrefixMapping, sourceKeys: string[]): Pair[] {
  const to = prefix.to ?? prefix.from;
  return sourceKeys
    .filter((k) => k.startsWith(prefix.from))
    .sort()
    .map((k) => ({ from: k, to: to + k.slice(prefix.from.length) }));
}

export interface SyncPlan {
  write: Record<string, string>;
  /** Destination keys whose value differs from the source and which the unit only reports. */
  drifted: string[];
  remove: string[];
  changes: string[];
}

export function planSync(opts: {
  pairs: Pair[];
  source: Record<string, string>;
  destination: Record<string, string>;
  /**
   * Destination keys that were soft-deleted and have just been recovered (their values are in
   * `destination`). Such a key was absent to the unit, so a differing value is written
   * whatever `drift` says, as a missing key would be.
   */
  recovered?: string[];
  drift: Drift;
  /** Destination keys a prune may remove (those under the destination prefix); none without prune. */
  prunable: string[];
}): SyncPlan {
  const write: Record<string, string> = {};
  const drifted: string[] = [];
  const changes: string[] = [];
  const recovered = new Set(opts.recovered);
  for (const { from, to } of opts.pairs) {
    const want = opts.source[from]!;
    const have = opts.destination[to];
    if (recovered.has(to)) {
      if (have !== want) write[to] = want;
      changes.push(have === want ? `recovered soft-deleted ${to} (equal to the source)` : `recovered soft-deleted ${to} and wrote the source's value`);
      continue;
    }
    if (have === want) continue;
    if (have === undefined) {
      write[to] = want;
      changes.push(from === to ? `added ${to}` : `added ${to} (from ${from})`);
    } else if (opts.drift === "correct") {
      write[to] = want;
      changes.push(`corrected drift in ${to}`);
    } else drifted.push(to);
  }
  const targets = new Set(opts.pairs.map((p) => p.to));
  const remove = opts.prunable.filter((k) => !targets.has(k)).sort();
  changes.push(...remove.map((k) => `pruned ${k} (no longer in the source)`));
  return { write, drifted, remove, changes };
}
