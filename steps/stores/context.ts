import type { KindContext } from "../core/kind.js";

/**
 * What a store needs from the step: the unit (for the managed-by marks), the API server, the
 * redactor, the environment, and the change record every write of a store goes into.
 */
export type StoreContext = Pick<KindContext, "unit" | "namespace" | "kube" | "redactor" | "env" | "record">;
