import type { Kube } from "../core/kube.js";

export interface ProbeEnv {
  kube(): Kube;
  namespace: string;
  attemptTimeoutMs: number;
}

/** One dependency: `check` resolves when it is ready and throws, saying why, when not. */
export interface Probe {
  name: string;
  check(): Promise<void>;
}
