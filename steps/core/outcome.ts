// What a fan-out unit reports besides its recorded changes: every target and what this run did
// to it. Below the kinds because the runtime turns it into the summary, Event and metrics.
import type { Action } from "./changes.js";

/** What one run did to one target of a fan-out unit, e.g. `{ target: "Secret ws-1/pull", action: "created" }`. */
export interface TargetResult {
  target: string;
  /** created | updated | unchanged, or what a fan-out does besides: pruned, kept, conflict… */
  action: string;
}

/** What a kind's ensure may return: a fan-out's targets. A single-target kind returns nothing. */
export interface EnsureReport {
  targets?: TargetResult[];
}

/**
 * The counts the Event and the metrics carry: how many targets, and how many of them this
 * run created, updated or left unchanged. A single-target unit is one target, with the
 * action its recorded changes give.
 */
export function targetCounts(action: Action, targets: readonly TargetResult[] | undefined): Record<string, number> {
  const all = targets ?? [{ target: "", action: action === "none" ? "unchanged" : action }];
  const counts: Record<string, number> = { targets: all.length, created: 0, updated: 0, unchanged: 0 };
  for (const t of all) counts[t.action] = (counts[t.action] ?? 0) + 1;
  return counts;
}
