import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadFile } from "../../steps/cli/load.js";
import { registry } from "../../steps/kinds/registry.js";

async function lint(text: string) {
  const dir = await mkdtemp(path.join(tmpdir(), "reseed-lint-"));
  const file = path.join(dir, "values.yaml");
  await writeFile(file, text);
  return loadFile(file, registry, "reseed");
}

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
    expect(r.problems.map((p) => p.subject)).toEqual(["imagee", "units.bad-kind-settings.spec.ensure.with.keys.0.length", "units.off-but-broken.pattern"]);
  });

  it("checks an overlay's chart settings field by field: a partial image or defaults is fine, a bad digest is not", async () => {
    const ok = await lint(`
image: { digests: { verify: "sha256:${"a".repeat(64)}" } }
defaults: { schedule: "*/5 * * * *" }
imagePullSecrets: [{ name: registry-credentials }]
units: {}
`);
    expect(ok.problems).toEqual([]);
    const imagesOnly = await lint(`image: { registry: registry.example.com/team, digests: { verify: "sha256:${"b".repeat(64)}" } }\n`);
    expect(imagesOnly.problems, "an overlay without units (make push's values-images.yaml)").toEqual([]);
    const bad = await lint(`
image: { digests: { verify: "sha256:abc", lint: "sha256:${"a".repeat(64)}" }, pullPolicy: Sometimes }
defaults: { ttlSecondsAfterFailure: 60 }
imagePullSecrets: [{ name: "" }]
units: {}
`);
    expect(bad.problems.map((p) => p.subject).sort()).toEqual(
      ["defaults.ttlSecondsAfterFailure", "image.digests", "image.digests.verify", "image.pullPolicy", "imagePullSecrets.0.name"].sort(),
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
    expect(r.problems).toEqual([{ subject: "document 2.spec.runId", message: "hook units need a runId so Git can force a rerun (P2)" }]);
  });

  it("reports YAML syntax errors instead of throwing", async () => {
    const r = await lint("units: { a: [ }");
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.units).toEqual([]);
  });
});
