import { describe, expect, it } from "vitest";
import { fingerprint, loadUnit } from "../../steps/runtime/unit.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";
import { problemsOf } from "../harness/unit-problems.js";

const registry = await loadKinds(kinds);

const unit = (spec: Record<string, unknown>) => ({
  apiVersion: "reseed.dev/v1alpha1",
  kind: "SeedingUnit",
  metadata: { name: "u1" },
  spec,
});

describe("loadUnit", () => {
  it("applies defaults and fingerprints the spec", () => {
    const l = loadUnit(
      unit({
        pattern: "reconciler",
        ensure: { kind: "generated-secret", with: { secret: { name: "s" }, keys: [{ name: "k" }] } },
      }),
      registry,
    );
    expect(l.unit.spec.managed).toBe(true);
    expect(l.unit.spec.waitTimeoutSeconds).toBe(300);
    expect(l.settings).toMatchObject({ keys: [{ name: "k", length: 32, charset: "alphanumeric" }] });
    expect(l.fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect(fingerprint(l.unit)).toBe(l.fingerprint);
  });

  it("names every schema problem by field path", () => {
    const problems = problemsOf(
      unit({
        pattern: "sometimes",
        inputs: { x: { env: "A", secretKeyRef: { name: "s", key: "k" } } },
        ensure: { kind: "generated-secret" },
      }),
    );
    expect(problems.join("\n")).toMatch(/spec\.pattern/);
    expect(problems.join("\n")).toMatch(/spec\.inputs\.x/);
  });

  it("rejects an unknown kind, listing the known ones", () => {
    expect(problemsOf(unit({ pattern: "reconciler", ensure: { kind: "nope" } }))[0]).toContain(
      "azure-federated-credential, coder-admin, generated-secret",
    );
  });

  it("checks the kind's settings, its pattern and its input references", () => {
    expect(
      problemsOf(
        unit({
          pattern: "reconciler",
          ensure: { kind: "generated-secret", with: { secret: { name: "S!" }, keys: [] } },
        }),
      ).join("\n"),
    ).toMatch(/spec\.ensure\.with\.secret\.name[\s\S]*spec\.ensure\.with\.keys/);
    expect(
      problemsOf(
        unit({
          pattern: "reconciler",
          ensure: { kind: "operator-ready", with: { resources: [{ apiVersion: "v1", kind: "Pod", name: "p" }] } },
        }),
      )[0],
    ).toContain("runs under operator");
    const refs = problemsOf(
      unit({
        pattern: "reconciler",
        inputs: { token: { secretKeyRef: { name: "s", key: "t" } } },
        ensure: {
          kind: "runtime-facts",
          with: { configMap: { name: "c" }, facts: { a: { input: "missing" }, b: { input: "token" } } },
        },
      }),
    ).join("\n");
    expect(refs).toContain('refers to input "missing"');
    expect(refs).toContain("spec.inputs.token: is secret material");
  });

  it("requires a runId for hook units (P2)", () => {
    expect(
      problemsOf(
        unit({
          pattern: "hook",
          ensure: { kind: "generated-secret", with: { secret: { name: "s" }, keys: [{ name: "k" }] } },
        }),
      ),
    ).toEqual(["spec.runId: hook units need a runId so Git can force a rerun (P2)"]);
  });
});
