import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadFile, loadFiles } from "../../steps/cli/load.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";

const registry = await loadKinds(kinds);

async function write(text: string, name = "values.yaml") {
  const dir = await mkdtemp(path.join(tmpdir(), "reseed-lint-"));
  const file = path.join(dir, name);
  await writeFile(file, text);
  return file;
}

async function lint(text: string) {
  return loadFile(await write(text), registry, "reseed");
}

const unitValues =
  "units:\n  web: { enabled: true, pattern: reconciler, ensure: { kind: generated-secret, with: { secret: { name: s }, keys: [{ name: k }] } } }\n";

describe("reseed lint", () => {
  it("reports every problem of a values file with its field path, enabled or not", async () => {
    const r = await lint(`
imagee: {}
units:
  good:
    enabled: true
    pattern: reconciler
    ensure: { kind: generated-secret, with: { secret: { name: s }, keys: [{ name: k }] } }
  bad-kind-settings:
    enabled: true
    pattern: reconciler
    ensure: { kind: generated-secret, with: { secret: { name: s }, keys: [{ name: k, length: 4 }] } }
  off-but-broken:
    enabled: false
    pattern: sometimes
    ensure: { kind: generated-secret }
`);
    expect(r.units.map((u) => u.unit.metadata.name)).toEqual(["good"]);
    expect(r.problems.map((p) => p.subject)).toEqual([
      "imagee",
      "units.bad-kind-settings.ensure.with.keys.0.length",
      "units.off-but-broken.pattern",
      "units.off-but-broken.ensure.with.keys",
    ]);
  });

  it("checks an overlay's chart settings field by field: a partial image or defaults is fine, a bad digest is not", async () => {
    const ok = await lint(`
image: { digests: { verify: "sha256:${"a".repeat(64)}" } }
defaults: { schedule: "*/5 * * * *" }
imagePullSecrets: [{ name: registry-credentials }]
units: {}
`);
    expect(ok.problems).toEqual([]);
    const imagesOnly = await lint(
      `image: { registry: registry.example.com/team, digests: { verify: "sha256:${"b".repeat(64)}" } }\n`,
    );
    expect(imagesOnly.problems, "an overlay without units (make push's values-images.yaml)").toEqual([]);
    const bad = await lint(`
image: { digests: { verify: "sha256:abc", lint: "sha256:${"a".repeat(64)}" }, pullPolicy: Sometimes }
defaults: { ttlSecondsAfterFailure: 60 }
imagePullSecrets: [{ name: "" }]
units: {}
`);
    expect(bad.problems.map((p) => p.subject).sort()).toEqual(
      [
        "defaults.ttlSecondsAfterFailure",
        "image.digests.lint",
        "image.digests.verify",
        "image.pullPolicy",
        "imagePullSecrets.0.name",
      ].sort(),
    );
  });

  it("reads multi-document unit files and names the document", async () => {
    const r = await lint(`apiVersion: reseed.dev/v1alpha1
kind: SeedingUnit
metadata: { name: one }
spec: { pattern: reconciler, ensure: { kind: generated-secret, with: { secret: { name: s }, keys: [{ name: k }] } } }
---
apiVersion: reseed.dev/v1alpha1
kind: SeedingUnit
metadata: { name: two }
spec: { pattern: hook, ensure: { kind: generated-secret, with: { secret: { name: s }, keys: [{ name: k }] } } }
`);
    expect(r.units).toHaveLength(1);
    expect(r.problems).toEqual([
      { subject: "document 2.spec.runId", message: "hook units need a runId so Git can force a rerun (P2)" },
    ]);
  });

  it("reports YAML syntax errors instead of throwing", async () => {
    const r = await lint("units: { a: [ }");
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.units).toEqual([]);
  });

  it("accepts an overlay that sets only defaults or image", async () => {
    const r = await lint('defaults:\n  schedule: "@hourly"\nimage:\n  tag: 0.2.0\n');
    expect(r.problems).toEqual([]);
    expect(r.units).toEqual([]);
  });

  it("compares values files with each other only for run: for lint they are alternative overlays", async () => {
    const files = [await write(unitValues, "values-dev.yaml"), await write(unitValues, "values-prod.yaml")];
    const lintResults = await loadFiles(files, registry, "reseed", "lint");
    expect(lintResults.flatMap((r) => r.problems)).toEqual([]);
    const runResults = await loadFiles(files, registry, "reseed", "run");
    expect(runResults[1]!.problems).toEqual([
      {
        subject: "units.web",
        message: `unit "web" is already defined at ${files[0]}: units.web; unit names must be unique (each is one CronWorkflow, ServiceAccount and Role)`,
      },
    ]);
  });
});

describe("reseed lint: no literal secrets (C5)", () => {
  it("refuses secret: true on a literal, and a literal where a kind takes a secret, naming the field and where the secret must come from", async () => {
    const r = await lint(`
units:
  marked:
    enabled: true
    pattern: reconciler
    inputs:
      pw: { value: "hunter2-but-longer", secret: true }
    ensure: { kind: generated-secret, with: { secret: { name: s }, keys: [{ name: k }] } }
  literal-where-secret:
    enabled: true
    pattern: extraction
    inputs:
      extractorSecret: { value: "a-literal-client-secret" }
    ensure:
      kind: keycloak-client-secret
      with: { url: "http://keycloak.iam.svc:8080", realm: r, clientId: app, auth: { clientId: x, clientSecret: { input: extractorSecret } }, sink: { kubernetesSecret: { name: s } } }
  literal-not-secret:
    enabled: true
    pattern: reconciler
    inputs:
      cluster: { value: prod-eu-1, secret: false }
    ensure: { kind: runtime-facts, with: { configMap: { name: facts }, facts: { cluster: { input: cluster } } } }
`);
    expect(r.units.map((u) => u.unit.metadata.name)).toEqual(["literal-not-secret"]);
    expect(r.problems.map((p) => p.subject)).toEqual([
      "units.marked.inputs.pw.secret",
      "units.literal-where-secret.inputs.extractorSecret",
    ]);
    for (const p of r.problems) expect(p.message).toContain("secretKeyRef, vault or keyVault");
    expect(r.problems.map((p) => p.message).join("\n")).not.toContain("secret: true");
  });
});
