import type { Kube } from "../core/kube.js";
import type { Redactor } from "../core/redact.js";
import type { InputRef } from "../core/spec.js";
import type { ImplicitInput } from "./implicit.js";

export interface ResolveEnv {
  namespace: string;
  kube(): Kube;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Sources that log in (Vault, Key Vault) register the tokens they handle before using them. */
  redactor: Redactor;
}

/** The unit's inputs once resolved: what a kind reads its `with` values from. */
export interface ResolvedInputs {
  get(name: string): string | undefined;
  isSecret(name: string): boolean;
}

/** `absent` says why nothing was found, in words that name the reference, never a value. */
export type Resolution = { value: string } | { absent: string };

export interface InputSource<Ref extends InputRef = InputRef> {
  /** The key that selects this source in an input reference, e.g. `secretKeyRef`. */
  key: string;
  resolve(ref: Ref, env: ResolveEnv): Promise<Resolution>;
  /** The auth material this source reads from the pod to resolve `ref` (a Vault login, workload identity). */
  implicitInputs?(ref: Ref): ImplicitInput[];
}
