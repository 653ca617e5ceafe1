import type { Kube } from "../core/kube.js";
import type { Redactor } from "../core/redact.js";
import type { SeedingUnit } from "../core/spec.js";

/** What a store needs from the step: the unit (for the managed-by marks), the API server, the redactor, the environment. A kind's context is one. */
export interface StoreContext {
  unit: SeedingUnit;
  namespace: string;
  kube(): Kube;
  redactor: Redactor;
  env: NodeJS.ProcessEnv;
}
