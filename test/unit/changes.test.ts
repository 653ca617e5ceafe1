// The change record: each write recorded as it is made, the step's action derived from the
// records, and a step that fails after writing names its writes next to its failure.
import * as z from "zod";
import { describe, expect, it } from "vitest";
import { runUnits } from "../../steps/cli/run.js";
import { ChangeLog, actionOf, describeChange, readOnly, type Change } from "../../steps/core/changes.js";
import { ExitCode, SeedError } from "../../steps/core/errors.js";
import { defineKind, type KindRegistry } from "../../steps/kinds/kind.js";
import { Redactor } from "../../steps/core/redact.js";
import { headline, summarize } from "../../steps/runtime/runtime.js";
import { loadUnit } from "../../steps/runtime/unit.js";

const secretWrite: Change = { verb: "created", object: "Kubernetes Secret apps/db", keys: ["password"] };
const tokenWrite: Change = { verb: "issued", object: "Coder API token reseed-x of the owner" };

describe("ChangeLog", () => {
  it("hands each change on the moment it is recorded, and keeps them in order", () => {
    const seen: string[] = [];
    const log = new ChangeLog((c) => seen.push(`${describeChange(c)} (${log.list().length} recorded)`));
    log.record(secretWrite);
    expect(seen).toEqual(["created Kubernetes Secret apps/db with key password (1 recorded)"]);
    log.record(tokenWrite);
    expect(log.list()).toEqual([secretWrite, tokenWrite]);
    expect(seen).toHaveLength(2);
  });

  it("keeps a copy, and leaves out empty keys and notes", () => {
    const keys = ["a"];
    const log = new ChangeLog();
    log.record({ verb: "updated", object: "ConfigMap x/y", keys, note: "" });
    log.record({ verb: "updated", object: "ConfigMap x/z", keys: [] });
    keys.push("b");
    expect(log.list()).toEqual([
      { verb: "updated", object: "ConfigMap x/y", keys: ["a"] },
      { verb: "updated", object: "ConfigMap x/z" },
    ]);
  });

  it("a read-only connection's recorder refuses any write", () => {
    expect(() => readOnly(secretWrite)).toThrow(
      "Kubernetes Secret apps/db: a connection opened to read inputs wrote to it",
    );
  });
});

describe("actionOf", () => {
  it("is unchanged without changes, created when something came into being, updated otherwise", () => {
    expect(actionOf([])).toBe("unchanged");
    expect(
      actionOf([
        { verb: "updated", object: "o" },
        { verb: "deleted", object: "p" },
        { verb: "applied", object: "q" },
        tokenWrite,
      ]),
    ).toBe("updated");
    expect(actionOf([{ verb: "updated", object: "o" }, secretWrite])).toBe("created");
    expect(actionOf([{ verb: "recovered", object: "Key Vault https://kv secret a" }])).toBe("created");
  });
});

describe("describeChange", () => {
  it("names the verb, the object and the keys, never a value", () => {
    expect(describeChange(secretWrite)).toBe("created Kubernetes Secret apps/db with key password");
    expect(describeChange({ verb: "updated", object: "Vault https://bao secret/app", keys: ["a", "b"] })).toBe(
      "updated keys a, b in Vault https://bao secret/app",
    );
    expect(describeChange({ verb: "deleted", object: "Coder user admin", note: "loginTypeDrift: recreate" })).toBe(
      "deleted Coder user admin (loginTypeDrift: recreate)",
    );
  });
});

describe("the summary of a step that fails after writing", () => {
  const error = new SeedError(ExitCode.ensureFailed, "ensure failed for kind test", "read the cause", [
    { subject: "Coder user admin", message: "HTTP 403" },
  ]);

  it("lists every write before the failure, in the summary and in the one-line headline", () => {
    const summary = summarize({ code: error.code, error, changes: [secretWrite, tokenWrite] }, new Redactor());
    expect(summary).toMatchObject({
      result: "failed",
      exitCode: ExitCode.ensureFailed,
      changes: ["created Kubernetes Secret apps/db with key password", "issued Coder API token reseed-x of the owner"],
    });
    expect(headline(summary)).toBe(
      "ensure failed for kind test: Coder user admin: HTTP 403; written before the failure: created Kubernetes Secret apps/db with key password; issued Coder API token reseed-x of the owner",
    );
  });

  it("has no changes field when nothing was written, and masks what it lists", () => {
    expect(summarize({ code: error.code, error, changes: [] }, new Redactor())).not.toHaveProperty("changes");
    const redactor = new Redactor();
    redactor.register("s3cr3t-in-a-name-0001");
    const summary = summarize(
      {
        code: error.code,
        error,
        changes: [{ verb: "created", object: "Kubernetes Secret apps/s3cr3t-in-a-name-0001" }],
      },
      redactor,
    );
    expect(JSON.stringify(summary)).not.toContain("s3cr3t-in-a-name-0001");
  });
});

describe("a run that writes twice and then fails (the dev loop, the same phase code as the step images)", () => {
  const kind = defineKind({
    kind: "writes-then-fails",
    authority: "cluster-managed",
    description: "test-only: two recorded writes, then a refusal",
    patterns: ["reconciler"],
    spec: z.strictObject({}),
    inputs: [],
    dependencies: () => [],
    access: [],
    async ensure(ctx) {
      ctx.record(secretWrite);
      ctx.record({ verb: "updated", object: "Vault https://bao secret/app", keys: ["token"] });
      throw new Error("HTTP 403: permission denied");
    },
    verify: async () => [],
  });
  const registry: KindRegistry = { get: (n) => (n === kind.kind ? kind : undefined), names: () => [kind.kind] };
  const unit = {
    apiVersion: "reseed.dev/v1alpha1",
    kind: "SeedingUnit",
    metadata: { name: "halfway" },
    spec: { pattern: "reconciler", ensure: { kind: kind.kind, with: {} } },
  };

  it("logs each write when it is made, and the failed step's summary names both writes and the failure", async () => {
    const lines: Record<string, unknown>[] = [];
    const [e] = await runUnits([loadUnit(unit, registry)], {
      sink: { write: (l) => void lines.push(JSON.parse(l) as Record<string, unknown>) },
      pretty: false,
      env: { RESEED_NAMESPACE: "apps" },
    });
    expect(e).toMatchObject({
      result: "failed",
      failedPhase: "ensure-state",
      exitCode: ExitCode.ensureFailed,
      action: "created",
    });
    const ensure = lines.filter((l) => l.phase === "ensure-state");
    expect(ensure.map((l) => l.event)).toEqual(["state.changed", "state.changed", "step.summary"]);
    expect(ensure[0]).toMatchObject({
      verb: "created",
      object: "Kubernetes Secret apps/db",
      keys: ["password"],
      msg: "created Kubernetes Secret apps/db with key password",
    });
    expect(ensure[2]).toMatchObject({
      result: "failed",
      changes: [
        "created Kubernetes Secret apps/db with key password",
        "updated key token in Vault https://bao secret/app",
      ],
      problems: [{ subject: "cause", message: "HTTP 403: permission denied" }],
    });
    expect(String(ensure[2]!.msg)).toContain(
      "HTTP 403: permission denied; written before the failure: created Kubernetes Secret apps/db",
    );
  });
});
