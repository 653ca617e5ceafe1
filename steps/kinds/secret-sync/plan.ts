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
      changes.push(
        have === want
          ? `recovered soft-deleted ${to} (equal to the source)`
          : `recovered soft-deleted ${to} and wrote the source's value`,
      );
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

// --- fan-out: one source, the same Secret in every namespace a selector matches ---------------

/** What a fan-out finds in one namespace: whether it matches, and the Secret there if any. */
export interface FanOutTarget {
  namespace: string;
  matches: boolean;
  /** The Secret's values; undefined when the namespace holds no Secret of that name. */
  data: Record<string, string> | undefined;
  /** Carries this unit's fan-out label: reseed wrote it, so a prune may delete it. */
  ours: boolean;
}

export type FanOutAction = "created" | "updated" | "unchanged" | "pruned" | "kept" | "conflict" | "skipped";

export interface FanOutStep {
  namespace: string;
  action: FanOutAction;
  /** The whole data to write (the Secret's other keys kept), when the target is written. */
  data?: Record<string, string>;
  delete?: boolean;
  drifted: string[];
  changes: string[];
}

/**
 * Per namespace: a matching one gets exactly what differs (as planSync decides for one
 * destination); one that no longer matches keeps its Secret, or loses it under prune if this
 * unit wrote it; a Secret of that name that this unit did not write is never touched (a
 * conflict, reported); the source itself, if a selector matches its namespace, is skipped.
 */
export function planFanOut(opts: {
  pairs: Pair[];
  source: Record<string, string>;
  targets: FanOutTarget[];
  drift: Drift;
  prune: boolean;
  /** The destination prefix of a prefix sync: the keys a prune may remove inside each Secret. */
  prunePrefix?: string | undefined;
  /** The namespace of a Kubernetes source of the same name, which is never a target. */
  sourceNamespace?: string | undefined;
}): FanOutStep[] {
  const steps: FanOutStep[] = [];
  for (const t of [...opts.targets].sort((a, b) => a.namespace.localeCompare(b.namespace))) {
    const base = { namespace: t.namespace, drifted: [], changes: [] };
    if (t.namespace === opts.sourceNamespace) {
      if (t.matches) steps.push({ ...base, action: "skipped", changes: ["is the source's own Secret"] });
      continue;
    }
    if (!t.matches) {
      if (!t.ours) continue;
      steps.push(
        opts.prune
          ? { ...base, action: "pruned", delete: true, changes: ["deleted: the namespace no longer matches"] }
          : { ...base, action: "kept", changes: ["the namespace no longer matches; kept (prune is off)"] },
      );
      continue;
    }
    if (t.data !== undefined && !t.ours) {
      steps.push({
        ...base,
        action: "conflict",
        changes: ["a Secret of that name exists that this unit did not write; left as it is"],
      });
      continue;
    }
    const destination = t.data ?? {};
    const prunable =
      opts.prune && opts.prunePrefix !== undefined
        ? Object.keys(destination).filter((k) => k.startsWith(opts.prunePrefix!))
        : [];
    const plan = planSync({ pairs: opts.pairs, source: opts.source, destination, drift: opts.drift, prunable });
    if (!plan.changes.length) {
      steps.push({ ...base, action: "unchanged", drifted: plan.drifted });
      continue;
    }
    const data = Object.fromEntries(
      Object.entries({ ...destination, ...plan.write }).filter(([k]) => !plan.remove.includes(k)),
    );
    steps.push({
      namespace: t.namespace,
      action: t.data === undefined ? "created" : "updated",
      data,
      drifted: plan.drifted,
      changes: plan.changes,
    });
  }
  return steps;
}
