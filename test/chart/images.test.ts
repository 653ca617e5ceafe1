// The images the chart runs: tag from the one version, digest pinning, pull secrets, and the
// NOTES an installer reads. Rendered by the real helm, like chart.test.ts.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, inject, it } from "vitest";
import { stepImages } from "../../steps/core/values.js";
import { chartDir, examples, helmPath, NS, render, root, run, template, type Obj } from "../harness/helm.js";
import { chartScratch } from "../harness/chart-scratch.js";

const version = (JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }).version;
const digestOf = (step: string) => `sha256:${Buffer.from(step).toString("hex").padEnd(64, "0").slice(0, 64)}`;

const { valuesFile } = chartScratch("reseed-chart-images-");

interface Template {
  name: string;
  container?: { image: string };
}
function workflowTemplate(objs: Obj[]): { spec: { imagePullSecrets?: unknown; templates: Template[] } } {
  const found = objs.filter((o) => o.kind === "WorkflowTemplate");
  if (found.length !== 1) throw new Error(`expected one WorkflowTemplate, found ${found.length}`);
  return found[0] as unknown as { spec: { imagePullSecrets?: unknown; templates: Template[] } };
}
function imagesOf(objs: Obj[]): Record<string, string> {
  const byStep = Object.fromEntries(
    workflowTemplate(objs)
      .spec.templates.filter((t) => t.container)
      .map((t) => [t.name, t.container!.image]),
  );
  expect(Object.keys(byStep).sort()).toEqual([...stepImages].sort());
  return byStep;
}

describe("step images", () => {
  it("default to <registry>/reseed-<step>:<appVersion>, which is package.json's version", () => {
    const images = imagesOf(render(examples.dev));
    for (const step of stepImages) expect(images[step]).toBe(`ghcr.io/reseed-dev/reseed-${step}:${version}`);
  });

  it("image.digests pins each step to <registry>/reseed-<step>@<digest>, with no tag", () => {
    const digests = Object.fromEntries(stepImages.map((s) => [s, digestOf(s)]));
    const images = imagesOf(
      render(examples.dev, valuesFile({ image: { registry: "registry.example.com/platform", digests } })),
    );
    for (const step of stepImages)
      expect(images[step]).toBe(`registry.example.com/platform/reseed-${step}@${digestOf(step)}`);
  });

  it("a step without a digest keeps its tag; image.tag overrides appVersion", () => {
    const images = imagesOf(
      render(examples.dev, valuesFile({ image: { tag: "0.0.0-dev", digests: { verify: digestOf("verify") } } })),
    );
    expect(images.verify).toBe(`ghcr.io/reseed-dev/reseed-verify@${digestOf("verify")}`);
    expect(images["validate-inputs"]).toBe("ghcr.io/reseed-dev/reseed-validate-inputs:0.0.0-dev");
  });

  it("the schema rejects a digest that is not sha256:<64 hex> and a step that does not exist", () => {
    for (const digests of [{ verify: "sha256:abc" }, { verify: "latest" }, { lint: digestOf("lint") }]) {
      const r = template([examples.dev, valuesFile({ image: { digests } })]);
      expect(r.ok, JSON.stringify(digests)).toBe(false);
      expect(r.err, JSON.stringify(digests)).toMatch(/schema/i);
    }
  });
});

describe("imagePullSecrets", () => {
  it("go on the WorkflowTemplate, so every step pod of every unit gets them", () => {
    const secrets = [{ name: "registry-credentials" }];
    expect(
      workflowTemplate(render(examples.dev, valuesFile({ imagePullSecrets: secrets }))).spec.imagePullSecrets,
    ).toEqual(secrets);
  });

  it("are absent by default", () => {
    expect(workflowTemplate(render(examples.dev)).spec).not.toHaveProperty("imagePullSecrets");
  });
});

// Only `helm install` renders NOTES.txt, and even with --dry-run=client helm 3.22 first checks
// that a cluster answers: it gets the test API server, and writes nothing to it.
describe("NOTES.txt", () => {
  const install = (...flags: string[]) =>
    run(helmPath(), ["install", "reseed", chartDir, "--namespace", NS, "--dry-run=client", ...flags], {
      ...process.env,
      KUBECONFIG: inject("kube").adminKubeconfig,
    });

  it("names what was created, the images, and how to watch the first runs", () => {
    const r = install("--values", examples.dev);
    expect(r.err).toBe("");
    const notes = r.out.slice(r.out.indexOf("NOTES:"));
    expect(notes).toContain(`reseed ${version} in namespace ${NS}`);
    expect(notes).toContain(`ghcr.io/reseed-dev/reseed-verify:${version}`);
    expect(notes).toContain('coder-db-password: CronWorkflow coder-db-password (reconciler, "*/10 * * * *")');
    expect(notes).toMatch(/dev-data-seed: hook Workflow dev-data-seed-\S+/);
    expect(notes).toContain(`argo list -n ${NS} -l reseed.dev/unit`);
  });

  it("says so when no unit is enabled", () => {
    const r = install();
    expect(r.err).toBe("");
    expect(r.out).toContain("No unit is enabled");
  });
});
