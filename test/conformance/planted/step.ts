// The entry of the planted-leak step bundle: a real step (runStep, its redactor, its
// evidence) whose kinds also include the planted-leak kind. The phase comes from the
// environment, set by the per-phase wrapper the test writes beside the bundle.
import { ExitCode } from "../../../steps/core/errors.js";
import type { Phase } from "../../../steps/runtime/phases.js";
import { runStep } from "../../../steps/runtime/runtime.js";
import { plantedKinds } from "./registry.js";

runStep(process.env.RESEED_PLANTED_PHASE as Phase, plantedKinds).then(
  (code) => {
    process.exitCode = code;
  },
  () => {
    process.exitCode = ExitCode.internal;
  },
);
