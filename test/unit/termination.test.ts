// The termination message: the one line Argo appends to a failed step's node message, so
// `argo get`, `argo list` and the UI say why a run failed without anyone opening a log.
import { describe, expect, it } from "vitest";
import { ExitCode, SeedError, missingInputs } from "../../steps/core/errors.js";
import { Redactor } from "../../steps/core/redact.js";
import { MAX_TERMINATION_MESSAGE, summarize, terminationMessage } from "../../steps/runtime/runtime.js";
import { canary, describeLeak, encodings, findLeaks } from "../conformance/leak-hunt.js";
import { runStepProcess } from "../harness/steps.js";

const messageOf = (error: SeedError, redactor = new Redactor()) =>
  terminationMessage(summarize({ code: error.code, error }, redactor), redactor);

describe("terminationMessage", () => {
  it("says the clause, then the first problem's subject and message, and how many more the log holds", () => {
    const error = missingInputs([
      { subject: "region", message: "ConfigMap reseed/infra not found" },
      { subject: "zone", message: "ConfigMap reseed/infra not found" },
    ]);
    expect(messageOf(error)).toBe(
      "C1 failfast: a required input is missing: region: ConfigMap reseed/infra not found (and 1 more in the log)",
    );
  });

  it("says the reason when there is no problem list", () => {
    expect(
      messageOf(
        new SeedError(ExitCode.verifyFailed, "the Secret reseed/db lost key password", "the next run repairs it"),
      ),
    ).toBe("C3 self-healing: the desired state does not hold after ensure: the Secret reseed/db lost key password");
  });

  it("is one line, at most MAX_TERMINATION_MESSAGE characters", () => {
    const message = messageOf(
      new SeedError(ExitCode.ensureFailed, "ensure failed", "", [
        { subject: "cause", message: `${"x".repeat(2000)}\nsecond line` },
      ]),
    );
    expect(message).not.toContain("\n");
    expect(message).toHaveLength(MAX_TERMINATION_MESSAGE);
    expect(message.endsWith("…")).toBe(true);
  });

  it("carries no form and no 12-character fragment of a registered secret, even one the length cap cuts in the middle", () => {
    for (const length of [12, 64, 256]) {
      const secret = canary(length);
      const redactor = new Redactor();
      redactor.register(secret);
      const echo = Object.values(encodings(secret)).join(" | ");
      // Placed so the cap falls inside the echoed secret: masking first leaves nothing to cut.
      const prefix = "x".repeat(MAX_TERMINATION_MESSAGE - 120);
      const message = messageOf(
        new SeedError(ExitCode.ensureFailed, "ensure failed", "", [
          { subject: "cause", message: `${prefix} server said: ${echo}` },
        ]),
        redactor,
      );
      expect(message).toContain("[REDACTED]");
      expect(findLeaks({ secret }, [{ where: "termination message", text: message }]).map(describeLeak)).toEqual([]);
    }
  });
});

describe("a failed step process", () => {
  it("writes the termination message to RESEED_TERMINATION_LOG", async () => {
    const run = await runStepProcess(
      "validate-inputs",
      { apiVersion: "reseed.dev/v1alpha1", kind: "SeedingUnit", metadata: { name: "broken" }, spec: {} },
      {
        kubeconfig: "/nonexistent/kubeconfig",
        namespace: "default",
      },
    );
    expect(run.code).toBe(ExitCode.invalidSpec);
    expect(run.termination).toMatch(/^C5 clean wiring: the unit spec is invalid: spec\.\S+: /);
  });
});
