// What a step wrote, recorded at the moment each write succeeds. A run that fails halfway
// has still written what it wrote: the record is the evidence of both, and the result
// (created, updated, unchanged) is derived from it rather than declared by each kind.

/**
 * created: an object that did not exist now does (a Secret, a KV secret, a role, a user).
 * recovered: a soft-deleted object was brought back, old value and all.
 * updated: an existing object was changed (keys added or replaced, an owner, roles, tags).
 * deleted: an object was removed (only where a unit asks for it, or an API key being replaced).
 * applied: a SQL file or seed ran in a database (recorded in its ledger).
 * issued: a credential was minted for the unit's own use (an API token kept between runs).
 */
export type ChangeVerb = "created" | "recovered" | "updated" | "deleted" | "applied" | "issued";

export type Action = "created" | "updated" | "unchanged" | "none";

/** One write, named so an operator can find the object; never a value. */
export interface Change {
  verb: ChangeVerb;
  /** "Kubernetes Secret ns/name", "Vault https://… secret/app", "Key Vault https://… secret ghcr-token", "PostgreSQL role app". */
  object: string;
  /** The names inside the object that the write changed (Secret keys, fields, tags); never their values. */
  keys?: string[];
  /** Why, when the verb alone does not say: "loginTypeDrift: recreate", "owner readers -> app". Never a value. */
  note?: string;
}

export type RecordChange = (change: Change) => void;

/**
 * For a connection that only reads (an input source): there is nowhere to record a write, so
 * a write through it is a bug, and it fails the step loudly rather than going unrecorded.
 */
export const readOnly: RecordChange = (c) => {
  throw new Error(`${c.object}: a connection opened to read inputs wrote to it`);
};

/**
 * The changes of one step, in the order they were made. `onRecord` runs as each one is
 * recorded (the runtime logs it at once), so the log holds every write even when a later
 * write, or the process, fails.
 */
export class ChangeLog {
  private readonly changes: Change[] = [];

  constructor(private readonly onRecord: RecordChange = () => undefined) {}

  readonly record: RecordChange = (change) => {
    const c: Change = {
      verb: change.verb,
      object: change.object,
      ...(change.keys?.length ? { keys: [...change.keys] } : {}),
      ...(change.note ? { note: change.note } : {}),
    };
    this.changes.push(c);
    this.onRecord(c);
  };

  list(): readonly Change[] {
    return this.changes;
  }
}

/** A verb that leaves the unit's state existing where it did not a moment before. */
const bringsIntoBeing: ReadonlySet<ChangeVerb> = new Set(["created", "recovered"]);

/**
 * The step's result from what it wrote: nothing is `unchanged`; an object that came into
 * being (after a reset, on a first run) makes it `created`; any other write `updated`.
 */
export function actionOf(changes: readonly Change[]): Exclude<Action, "none"> {
  if (!changes.length) return "unchanged";
  return changes.some((c) => bringsIntoBeing.has(c.verb)) ? "created" : "updated";
}

/** The keys a write changes: those `next` sets to another value than `before` held (added or replaced), sorted. */
export const changedKeys = (before: Record<string, string>, next: Record<string, string>): string[] =>
  Object.keys(next)
    .filter((k) => before[k] !== next[k])
    .sort();

const names = (keys: string[]) => `${keys.length === 1 ? "key" : "keys"} ${keys.join(", ")}`;

/** One line per change: "created Kubernetes Secret ns/app with keys a, b", "updated key token in Vault … secret/app". */
export function describeChange(c: Change): string {
  const note = c.note ? ` (${c.note})` : "";
  if (!c.keys?.length) return `${c.verb} ${c.object}${note}`;
  if (c.verb === "created") return `created ${c.object} with ${names(c.keys)}${note}`;
  return `${c.verb} ${names(c.keys)} in ${c.object}${note}`;
}
