import type { KindRegistry } from "../../../steps/kinds/kind.js";
import { kinds } from "../../../steps/kinds/registry.js";
import { leakyKind } from "./leaky-kind.js";

const all = [...kinds, leakyKind];

/** The real registry plus the planted-leak kind: for the planted-leak step bundle only. */
export const plantedRegistry: KindRegistry = {
  get: (n) => all.find((k) => k.kind === n),
  names: () => all.map((k) => k.kind),
};
