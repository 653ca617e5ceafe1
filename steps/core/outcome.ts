// What a kind's ensure reports. Below the stores and kinds because a store's publish reports it too.

export type Action = "created" | "updated" | "unchanged" | "none";

export interface Outcome {
  action: Action;
  /** Non-secret descriptions of what was written, e.g. "added key password". */
  changes: string[];
  /** Fan-out units only: every target and what this run did to it (the summary lists them). */
  targets?: TargetResult[];
}

/** What one run did to one target of a fan-out unit, e.g. `{ target: "Secret ws-1/pull", action: "created" }`. */
export interface TargetResult {
  target: string;
  /** created | updated | unchanged, or what a fan-out does besides: pruned, kept, conflict… */
  action: string;
}

/**
 * The counts the Event and the metrics carry: how many targets, and how many of them this
 * run created, updated or left unchanged. A single-target unit is one target.
 */
export function targetCounts(outcome: Outcome): Record<string, number> {
  const targets = outcome.targets ?? [{ target: "", action: outcome.action === "none" ? "unchanged" : outcome.action }];
  const counts: Record<string, number> = { targets: targets.length, created: 0, updated: 0, unchanged: 0 };
  for (const t of targets) counts[t.action] = (counts[t.action] ?? 0) + 1;
  return counts;
}
