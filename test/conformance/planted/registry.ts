import type { KindCatalog } from "../../../steps/kinds/kind.js";
import { kinds } from "../../../steps/kinds/registry.js";
import { leakyKind } from "./leaky-kind.js";

/** The real kinds plus the planted-leak kind: for the planted-leak step bundle only. */
export const plantedKinds: KindCatalog = {
  names: () => [...kinds.names(), leakyKind.kind],
  load: async (name) => (name === leakyKind.kind ? leakyKind : kinds.load(name)),
};
