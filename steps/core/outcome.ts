// What a kind's ensure reports. Below the stores and kinds because a store's publish reports it too.

export type Action = "created" | "updated" | "unchanged" | "none";

export interface Outcome {
  action: Action;
  /** Non-secret descriptions of what was written, e.g. "added key password". */
  changes: string[];
}
