import { describe, expect, it } from "vitest";
import { planCredential, subjectOf } from "../../steps/kinds/azure-federated-credential/plan.js";

const want = {
  issuer: "https://oidc.cluster-1.internal",
  subject: subjectOf("coder", "workspace"),
  audiences: ["api://AzureADTokenExchange"],
};

describe("azure-federated-credential plan", () => {
  it("derives the subject from the ServiceAccount", () => {
    expect(want.subject).toBe("system:serviceaccount:coder:workspace");
  });

  it("creates a missing credential and writes nothing when it is equal", () => {
    expect(planCredential("fic", want, undefined)).toMatchObject({ write: true, action: "created" });
    expect(planCredential("fic", want, { ...want, audiences: [...want.audiences] })).toEqual({ write: false });
  });

  it("upserts issuer, subject and audience drift, naming each", () => {
    const plan = planCredential("fic", want, {
      issuer: "https://old",
      subject: "system:serviceaccount:coder:other",
      audiences: [],
    });
    expect(plan).toEqual({
      write: true,
      action: "updated",
      changes: [
        "federated credential fic: issuer https://old -> https://oidc.cluster-1.internal",
        "federated credential fic: subject system:serviceaccount:coder:other -> system:serviceaccount:coder:workspace",
        "federated credential fic: audiences unset -> api://AzureADTokenExchange",
      ],
    });
  });

  it("compares audiences as a set", () => {
    const two = { ...want, audiences: ["a", "b"] };
    expect(planCredential("fic", two, { ...two, audiences: ["b", "a"] })).toEqual({ write: false });
  });
});
