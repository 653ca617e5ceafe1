import type { Kube } from "../core/kube.js";
import type { Redactor } from "../core/redact.js";
import type { InputRef } from "../core/spec.js";

export interface ResolveEnv {
  namespace: string;
  kube(): Kube;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Sources that log in (Vault, Key Vault) register the tokens they handle before using them. */
  redactor: Redactor;
}

/**
 * `absent` says why nothing was found, in words that follow the reference's own description
 * (describeRef) and never repeat it, never a value. `forbidden` marks a refusal by the
 * authority (HTTP 403): the unit's permissions are wrong, not the input.
 */
export type Resolution = { value: string } | { absent: string; forbidden?: true };

export interface InputSource<Ref extends InputRef = InputRef> {
  /** The key that selects this source in an input reference, e.g. `secretKeyRef`. */
  key: string;
  resolve(ref: Ref, env: ResolveEnv): Promise<Resolution>;
}
