import type { KindContext } from "../core/kind.js";

/** What a store needs from the step: the unit (for the managed-by marks), the API server, the redactor, the environment. */
export type StoreContext = Pick<KindContext, "unit" | "namespace" | "kube" | "redactor" | "env">;
