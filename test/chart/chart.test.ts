// The chart, rendered by a real helm, checked as parsed YAML: the P1/P2/P3 settings that
// protect the contract, the unit document each step receives, and least-privilege RBAC
// derived from each unit. The real API server / Argo dry-run lives in the e2e harness.
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import * as z from "zod";
import { inputRef, seedingUnit, type SeedingUnit } from "../../steps/core/spec.js";
import { accessRules, ALL_NAMESPACES, apiGroupOf, pluralOf } from "../../steps/core/access.js";
import { unitValues, type UnitValues } from "../../steps/core/values.js";
import { jsonSchema, registryKinds } from "../../steps/cli/schema.js";
import { unitFromValues } from "../../steps/core/values-units.js";
import {
  chartDir,
  examples,
  helmPath,
  KUBE_VERSION,
  NS,
  parseObjects,
  render,
  root,
  run,
  template,
  type Obj,
} from "../harness/helm.js";
import { chartScratch } from "../harness/chart-scratch.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";

const registry = await loadKinds(kinds);

const { dir: scratch, valuesFile } = chartScratch("reseed-chart-");

function only(objs: Obj[], kind: string, name: string, namespace = NS): Obj {
  const found = objs.filter(
    (o) => o.kind === kind && o.metadata.name === name && (o.metadata.namespace ?? NS) === namespace,
  );
  if (found.length !== 1) throw new Error(`expected one ${kind} ${namespace}/${name}, found ${found.length}`);
  return found[0]!;
}

const unitOf = (o: Obj) => o.metadata.labels?.["reseed.dev/unit"];

/** Every key path in a value, for "nowhere in the output" assertions. */
function keyPaths(v: unknown, at = ""): string[] {
  if (Array.isArray(v)) return v.flatMap((x, i) => keyPaths(x, `${at}[${i}]`));
  if (v && typeof v === "object")
    return Object.entries(v).flatMap(([k, x]) => [`${at}.${k}`, ...keyPaths(x, `${at}.${k}`)]);
  return [];
}

function loadValues(file: string): { units: Record<string, UnitValues> } {
  const raw = parse(readFileSync(file, "utf8")) as { units?: Record<string, unknown> };
  return { units: Object.fromEntries(Object.entries(raw.units ?? {}).map(([n, u]) => [n, unitValues.parse(u)])) };
}

// Loose shapes of the rendered Argo objects, as far as the assertions need them.
const param = z.object({ name: z.string(), value: z.string().optional() });
const workflowSpec = z.looseObject({
  entrypoint: z.string(),
  serviceAccountName: z.string(),
  activeDeadlineSeconds: z.number(),
  podGC: z.object({ strategy: z.string(), deleteDelayDuration: z.string() }),
  ttlStrategy: z.object({ secondsAfterSuccess: z.number(), secondsAfterFailure: z.number() }),
  podMetadata: z.object({ labels: z.record(z.string(), z.string()) }).optional(),
  arguments: z.object({ parameters: z.array(param) }),
});
const cronSpec = z.looseObject({
  schedules: z.array(z.string()),
  timezone: z.string(),
  concurrencyPolicy: z.string(),
  startingDeadlineSeconds: z.number(),
  successfulJobsHistoryLimit: z.number(),
  failedJobsHistoryLimit: z.number(),
  suspend: z.boolean(),
  workflowMetadata: z.object({ labels: z.record(z.string(), z.string()) }),
  workflowSpec,
});
const rule = z.strictObject({
  apiGroups: z.array(z.string()),
  resources: z.array(z.string()),
  verbs: z.array(z.string()),
  resourceNames: z.array(z.string()).optional(),
});

function workflowSpecOf(o: Obj): z.infer<typeof workflowSpec> {
  return o.kind === "CronWorkflow" ? cronSpec.parse(o.spec).workflowSpec : workflowSpec.parse(o.spec);
}

function rawUnitParameter(o: Obj): string {
  const p = workflowSpecOf(o).arguments.parameters.find((x) => x.name === "unit");
  if (!p?.value) throw new Error(`${o.kind} ${o.metadata.name} has no unit parameter`);
  return p.value;
}

const unitParameter = (o: Obj): unknown => JSON.parse(rawUnitParameter(o));

// ---------------------------------------------------------------------------------------------
// The RBAC the chart must render, derived from the TypeScript side: the base rules, what
// inputs and dependencies read (with steps/core's group and plural rules), and what each kind
// declares in steps/kinds (its `access`). The chart's templates must agree with it.

type Grant = string; // namespace|apiGroup|resource|verb|name ("*" = not limited by name)

function expectedGrants(name: string, v: UnitValues): Set<Grant> {
  const unit = seedingUnit.parse(unitFromValues(name, v, NS));
  const ns = unit.spec.namespace ?? NS;
  const out = new Set<Grant>();
  const add = (namespace: string, group: string, resource: string, verbs: string[], names?: string[]) => {
    for (const verb of verbs) for (const n of names ?? ["*"]) out.add([namespace, group, resource, verb, n].join("|"));
  };
  add(NS, "events.k8s.io", "events", ["create"]);
  add(NS, "argoproj.io", "workflowtaskresults", ["create", "patch"]);
  for (const ref of Object.values(unit.spec.inputs)) {
    if ("secretKeyRef" in ref) add(ref.secretKeyRef.namespace ?? ns, "", "secrets", ["get"], [ref.secretKeyRef.name]);
    if ("configMapKeyRef" in ref)
      add(ref.configMapKeyRef.namespace ?? ns, "", "configmaps", ["get"], [ref.configMapKeyRef.name]);
  }
  const kind = registry.get(unit.spec.ensure.kind);
  if (!kind) throw new Error(`example unit ${name} uses unknown kind ${unit.spec.ensure.kind}`);
  const settings = kind.spec.parse(unit.spec.ensure.with);
  for (const dep of [...unit.spec.dependencies, ...kind.dependencies(settings, ns)]) {
    if ("kubernetes" in dep) {
      const k = dep.kubernetes;
      add(k.namespace ?? ns, apiGroupOf(k.apiVersion), pluralOf(k), ["get"], [k.name]);
    }
  }
  for (const r of [...accessRules(kind.access, settings, ns), ...(kind.clusterAccess?.(settings) ?? [])]) {
    for (const g of r.apiGroups) for (const res of r.resources) add(r.namespace, g, res, r.verbs, r.resourceNames);
  }
  return out;
}

/** The unit's Roles, and its ClusterRole (a fan-out's, rbac-fan-out.yaml) as namespace ALL_NAMESPACES. */
function renderedGrants(objs: Obj[], name: string): Set<Grant> {
  const out = new Set<Grant>();
  const roles = objs.filter(
    (o) =>
      (o.kind === "Role" && o.metadata.name === `reseed-${name}`) ||
      (o.kind === "ClusterRole" && o.metadata.name === `${NS}:reseed-${name}`),
  );
  for (const role of roles) {
    const ns = role.kind === "ClusterRole" ? ALL_NAMESPACES : role.metadata.namespace;
    for (const r of z.array(rule).parse(role.rules)) {
      for (const g of r.apiGroups)
        for (const res of r.resources)
          for (const verb of r.verbs)
            for (const n of r.resourceNames ?? ["*"]) out.add([ns, g, res, verb, n].join("|"));
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

const rendered: Record<keyof typeof examples, Obj[]> = { dev: [], prod: [], local: [] };

beforeAll(() => {
  rendered.dev = render(examples.dev);
  rendered.prod = render(examples.prod);
  rendered.local = render(examples.local);
});

describe("helm", () => {
  it.each(Object.entries(examples))("lint --strict passes with examples/values-%s.yaml", (_env, file) => {
    const r = run(helmPath(), [
      "lint",
      "--strict",
      chartDir,
      "--namespace",
      NS,
      "--kube-version",
      KUBE_VERSION,
      "--values",
      file,
    ]);
    expect(r.err + r.out).toContain("0 chart(s) failed");
    expect(r.ok).toBe(true);
  });

  it("renders with the chart's default values: only the WorkflowTemplate", () => {
    const objs = render();
    expect(objs.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual(["WorkflowTemplate/reseed-unit"]);
  });

  it("renders the same bytes every time and nothing volatile", () => {
    const a = template([examples.dev]);
    const b = template([examples.dev]);
    expect(a.out).toBe(b.out);
    expect(a.out).not.toMatch(
      /helm\.sh\/chart|app\.kubernetes\.io\/version|app\.kubernetes\.io\/instance|creationTimestamp:|checksum\//,
    );
  });

  it("values.schema.json is the one generated from chartValues and the kinds (never hand-edited)", () => {
    const file = path.join(chartDir, "values.schema.json");
    if (!existsSync(file)) throw new Error("charts/reseed/values.schema.json is missing: run `make generate`");
    expect(JSON.parse(readFileSync(file, "utf8")), "values.schema.json is stale: run `make generate`").toEqual(
      JSON.parse(JSON.stringify(jsonSchema("values", registryKinds(registry)))),
    );
  });

  it("the values schema rejects what chartValues rejects", () => {
    const bad: [string, unknown][] = [
      ["unknown top-level key", { extra: true }],
      [
        "unknown unit field",
        { units: { x: { enabled: true, pattern: "reconciler", ensure: { kind: "generated-secret" }, retries: 3 } } },
      ],
      ["bad pattern", { units: { x: { enabled: true, pattern: "job", ensure: { kind: "generated-secret" } } } }],
      [
        "input that is not a reference",
        {
          units: {
            x: { enabled: true, pattern: "reconciler", inputs: { p: "hunter2" }, ensure: { kind: "generated-secret" } },
          },
        },
      ],
      [
        "unit name too long for a CronWorkflow",
        { units: { ["x".repeat(53)]: { enabled: false, pattern: "reconciler", ensure: { kind: "k" } } } },
      ],
      ["short failure TTL (C4)", { defaults: { ttlSecondsAfterFailure: 60 } }],
    ];
    for (const [why, values] of bad) {
      const r = template([valuesFile(values)]);
      expect(r.ok, why).toBe(false);
      expect(r.err, why).toMatch(/schema/i);
    }
  });
});

describe("P1 reconciler and P4 extraction: CronWorkflow", () => {
  it.each(["dev", "prod"] as const)("%s: coder-db-password protects the contract", (env) => {
    const cron = only(rendered[env], "CronWorkflow", "coder-db-password");
    const spec = cronSpec.parse(cron.spec);
    expect(spec.concurrencyPolicy).toBe("Forbid"); // P1
    expect(spec.successfulJobsHistoryLimit).toBe(3); // P1, yet two manual reruns leave the run that said `created`
    expect(spec.failedJobsHistoryLimit).toBe(5); // C4
    expect(spec.schedules).toEqual(["*/10 * * * *"]); // C3
    expect(spec.timezone).toBe("UTC");
    expect(spec.startingDeadlineSeconds).toBe(300);
    expect(spec.suspend).toBe(false);
    expect(spec.workflowMetadata.labels["reseed.dev/unit"]).toBe("coder-db-password");
    const wf = spec.workflowSpec;
    expect(wf.entrypoint).toBe("reconcile");
    expect(wf.serviceAccountName).toBe("reseed-coder-db-password");
    expect(wf.activeDeadlineSeconds).toBe(900); // a hung run cannot block Forbid forever
    // C4: a failed run keeps all its pods; a success's stay 10 minutes, whatever the controller's default.
    expect(wf.podGC).toEqual({ strategy: "OnWorkflowSuccess", deleteDelayDuration: "600s" });
    expect(wf.ttlStrategy).toEqual({ secondsAfterSuccess: 3600, secondsAfterFailure: 259200 });
    expect(wf.arguments.parameters.find((p) => p.name === "cron-workflow")?.value).toBe("coder-db-password");
    expect(wf.podMetadata?.labels).toEqual({ "reseed.dev/unit": "coder-db-password" });
  });

  it("has no retryStrategy anywhere: the internal bounded retry is the retry (P1)", () => {
    for (const objs of Object.values(rendered)) {
      expect(keyPaths(objs).filter((p) => /retryStrategy|backoffLimit/.test(p))).toEqual([]);
    }
  });

  it("takes the unit's schedule, suspend and podLabels", () => {
    const objs = render(
      examples.dev,
      valuesFile({
        units: {
          "cluster-facts": {
            schedule: "7 * * * *",
            suspend: true,
            podLabels: { "azure.workload.identity/use": "true" },
          },
        },
      }),
    );
    const spec = cronSpec.parse(only(objs, "CronWorkflow", "cluster-facts").spec);
    expect(spec.schedules).toEqual(["7 * * * *"]);
    expect(spec.suspend).toBe(true);
    expect(spec.workflowSpec.podMetadata?.labels).toEqual({
      "azure.workload.identity/use": "true",
      "reseed.dev/unit": "cluster-facts",
    });
  });

  it("an extraction unit is a CronWorkflow running the full DAG", () => {
    const objs = render(
      valuesFile({
        units: {
          "kc-extract": {
            enabled: true,
            pattern: "extraction",
            ensure: { kind: "generated-secret", with: { secret: { name: "s" }, keys: [{ name: "k" }] } },
          },
        },
      }),
    );
    expect(workflowSpecOf(only(objs, "CronWorkflow", "kc-extract")).entrypoint).toBe("reconcile");
  });

  it("refuses a waitTimeoutSeconds the workflow deadline would cut off", () => {
    const r = template([examples.dev, valuesFile({ units: { "cluster-facts": { waitTimeoutSeconds: 900 } } })]);
    expect(r.ok).toBe(false);
    expect(r.err).toContain(
      "units.cluster-facts.waitTimeoutSeconds (900) must be below defaults.activeDeadlineSeconds (900)",
    );
  });
});

describe("P2 hook: Argo CD hook Workflow", () => {
  it("is named after the unit and its runId, as a PostSync hook that keeps failures", () => {
    const wf = only(rendered.dev, "Workflow", "dev-data-seed-2026-01-21");
    expect(wf.metadata.name).toContain("2026-01-21");
    expect(wf.metadata.annotations).toEqual({
      "argocd.argoproj.io/hook": "PostSync",
      "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation",
      "helm.sh/hook": "post-install,post-upgrade",
      "helm.sh/hook-delete-policy": "before-hook-creation",
    });
    expect(wf.metadata.labels?.["reseed.dev/unit"]).toBe("dev-data-seed");
    const spec = workflowSpecOf(wf);
    expect(spec.entrypoint).toBe("reconcile");
    expect(spec.podGC).toEqual({ strategy: "OnWorkflowSuccess", deleteDelayDuration: "600s" });
    expect(spec.ttlStrategy.secondsAfterFailure).toBe(259200);
    // No CronWorkflow to name: the hook leaves cron-workflow to reseed-unit's default, "".
    expect(spec.arguments.parameters.find((p) => p.name === "cron-workflow")).toBeUndefined();
    const tmplParams = (
      only(rendered.dev, "WorkflowTemplate", "reseed-unit").spec as {
        arguments: { parameters: { name: string; value?: string }[] };
      }
    ).arguments.parameters;
    expect(tmplParams.find((p) => p.name === "cron-workflow")?.value).toBe("");
    expect(rendered.dev.filter((o) => o.kind === "CronWorkflow" && unitOf(o) === "dev-data-seed")).toEqual([]);
  });

  it("a new runId is a new Workflow, and changes the unit's ServiceAccount, so Argo CD (which compares no hook) syncs it", () => {
    const objs = render(examples.dev, valuesFile({ units: { "dev-data-seed": { runId: "2026-02-01" } } }));
    expect(objs.filter((o) => o.kind === "Workflow").map((o) => o.metadata.name)).toEqual(["dev-data-seed-2026-02-01"]);
    const runIdOf = (o: Obj) => o.metadata.annotations?.["reseed.dev/run-id"];
    expect(runIdOf(only(rendered.dev, "ServiceAccount", "reseed-dev-data-seed"))).toBe("2026-01-21");
    expect(runIdOf(only(objs, "ServiceAccount", "reseed-dev-data-seed"))).toBe("2026-02-01");
    // Only hook units carry it: a scheduled unit's ServiceAccount does not change with a runId.
    expect(runIdOf(only(rendered.dev, "ServiceAccount", "reseed-cluster-facts"))).toBeUndefined();
  });

  it("fails rendering without a runId", () => {
    const r = template([
      valuesFile({
        units: {
          seed: {
            enabled: true,
            pattern: "hook",
            ensure: { kind: "generated-secret", with: { secret: { name: "s" }, keys: [{ name: "k" }] } },
          },
        },
      }),
    ]);
    expect(r.ok).toBe(false);
    expect(r.err).toContain("units.seed.runId is required for a hook unit");
  });

  it("fails rendering when <name>-<runId> exceeds Argo's 63 characters", () => {
    const name = "a".repeat(50);
    const r = template([
      valuesFile({
        units: {
          [name]: {
            enabled: true,
            pattern: "hook",
            runId: "r".repeat(20),
            ensure: { kind: "generated-secret", with: { secret: { name: "s" }, keys: [{ name: "k" }] } },
          },
        },
      }),
    ]);
    expect(r.ok).toBe(false);
    expect(r.err).toContain("longer than Argo's 63 characters");
  });
});

describe("every CronWorkflow is complete on its own; hook Workflows reference the template", () => {
  // Argo validates a CronWorkflow once, when it appears; one naming a WorkflowTemplate the
  // controller has not seen yet is not scheduled until a resync 20 minutes later. Carrying
  // the templates inline makes the first tick independent of the order objects are applied.
  // A hook Workflow is created after every other object (Helm post-install, Argo CD PostSync)
  // and keeps the reference: inline, re-applying it server-side would conflict with the
  // defaults the controller writes back into its templates.
  const shared = ["securityContext", "volumes", "metrics", "templates"] as const;
  const templateSpec = (objs: Obj[]) => only(objs, "WorkflowTemplate", "reseed-unit").spec as Record<string, unknown>;

  it.each(["dev", "prod", "local"] as const)(
    "%s: CronWorkflows carry the WorkflowTemplate's templates, metrics, volumes and security context inline",
    (env) => {
      const objs = rendered[env];
      const crons = objs.filter((o) => o.kind === "CronWorkflow");
      expect(crons.length).toBeGreaterThan(0);
      expect(keyPaths(crons).filter((p) => /workflowTemplateRef|templateRef/.test(p))).toEqual([]);
      const tmpl = templateSpec(objs);
      // The steps' failure metric is the CronWorkflows' own: its unit label resolves only where
      // the workflow metadata declares reseed.dev/unit (argo lint refuses it in the template).
      const stepMetrics = (templates: unknown) =>
        (templates as { name: string; container?: unknown; metrics?: { prometheus: { name: string }[] } }[]).map(
          (t) => ({
            template: t.name,
            metrics: t.metrics?.prometheus.map((m) => m.name) ?? [],
          }),
        );
      const withoutStepMetrics = (templates: unknown) =>
        (templates as Record<string, unknown>[]).map(({ metrics: _, ...t }) => t);
      // The per-target gauge reads its unit from ensure-state's own output, so it is in both.
      const targets = Array(4).fill("reseed_unit_targets");
      const ownMetrics = (t: { template: string }) => (t.template === "ensure-state" ? targets : []);
      for (const t of stepMetrics(tmpl.templates)) expect(t.metrics, `template ${t.template}`).toEqual(ownMetrics(t));
      for (const o of crons) {
        const spec = workflowSpecOf(o) as Record<string, unknown>;
        for (const field of shared.filter((f) => f !== "templates"))
          expect(spec[field], `${o.kind} ${o.metadata.name}: ${field}`).toEqual(tmpl[field]);
        expect(withoutStepMetrics(spec.templates), `${o.metadata.name}: templates`).toEqual(
          withoutStepMetrics(tmpl.templates),
        );
        const steps = stepMetrics(spec.templates).filter((t) => !["reconcile", "verify-only"].includes(t.template));
        expect(steps.map((t) => t.template)).toEqual(["validate-inputs", "wait-deps", "ensure-state", "verify"]);
        for (const t of steps)
          expect(t.metrics, `${o.metadata.name} ${t.template}`).toEqual([
            ...ownMetrics(t),
            "reseed_step_failures_total",
          ]);
      }
    },
  );

  it.each(["dev", "local"] as const)(
    "%s: each hook Workflow references reseed-unit and carries no templates of its own",
    (env) => {
      const hooks = rendered[env].filter((o) => o.kind === "Workflow");
      expect(hooks.length).toBeGreaterThan(0);
      for (const o of hooks) {
        const spec = o.spec as Record<string, unknown>;
        expect(spec.workflowTemplateRef, o.metadata.name).toEqual({ name: "reseed-unit" });
        for (const field of shared) expect(spec[field], `${o.metadata.name}: ${field}`).toBeUndefined();
      }
    },
  );
});

describe("P3 operator: verify-only CronWorkflow", () => {
  it("cnpg-ready runs verify-only on its own schedule in prod", () => {
    const spec = cronSpec.parse(only(rendered.prod, "CronWorkflow", "cnpg-ready").spec);
    expect(spec.workflowSpec.entrypoint).toBe("verify-only");
    expect(spec.concurrencyPolicy).toBe("Forbid");
    expect(spec.schedules).toEqual(["*/5 * * * *"]);
  });
});

describe("evidence that outlives the pod (C4; docs/evidence-archive.md)", () => {
  const archives = (objs: Obj[]) =>
    objs
      .filter((o) => o.kind === "CronWorkflow" || o.kind === "Workflow")
      .map((o) => [o.metadata.name, (workflowSpecOf(o) as { archiveLogs?: boolean }).archiveLogs] as const);

  it("the examples archive every step's log of every unit to the artifact repository", () => {
    for (const env of ["dev", "prod"] as const) {
      const all = archives(rendered[env]);
      expect(all.length).toBeGreaterThan(0);
      expect(all.filter(([, on]) => on !== true)).toEqual([]);
    }
  });

  it("the chart's default asks for no artifact repository: a cluster without one runs the units as before", () => {
    const all = archives(rendered.local);
    expect(all.length).toBeGreaterThan(0);
    expect(all.filter(([, on]) => on !== undefined)).toEqual([]);
  });
});

describe("Installing with Argo CD (docs/argo-cd.md)", () => {
  it("the page shows docs/argo-cd/application.yaml as it is: the file the e2e test applies", () => {
    const page = readFileSync(path.join(root, "docs/argo-cd.md"), "utf8");
    const manifest = readFileSync(path.join(root, "docs/argo-cd/application.yaml"), "utf8");
    expect(page).toContain("```yaml\n" + manifest + "```\n");
  });
});

describe("environment overlays (C5)", () => {
  it("disabled units render nothing", () => {
    expect(rendered.dev.filter((o) => unitOf(o) === "cnpg-ready")).toEqual([]);
    expect(rendered.prod.filter((o) => unitOf(o) === "dev-data-seed")).toEqual([]);
    const off = render(examples.dev, valuesFile({ units: { "coder-db-password": { enabled: false } } }));
    expect(
      off.filter((o) => unitOf(o) === "coder-db-password" || o.metadata.name.includes("coder-db-password")),
    ).toEqual([]);
  });

  it("each environment renders the units it enables, and only those", () => {
    const units = (objs: Obj[]) => [...new Set(objs.map(unitOf).filter(Boolean))].sort();
    expect(units(rendered.dev)).toEqual([
      "cluster-facts",
      "coder-admin",
      "coder-db-password",
      "dev-data-seed",
      "grafana-oidc-secret",
      "platform-db",
    ]);
    expect(units(rendered.prod)).toEqual([
      "cluster-facts",
      "cnpg-ready",
      "coder-admin",
      "coder-bootstrap-admin",
      "coder-db-password",
      "coder-db-password-vault",
      "coder-ws-fic",
      "grafana-oidc-secret",
      "keyvault-sync",
      "platform-db",
      "workspace-credentials",
    ]);
  });
});

describe("the unit document each step receives", () => {
  for (const env of ["dev", "prod"] as const) {
    it(`${env}: is a valid SeedingUnit equal to steps/core unitFromValues`, () => {
      const values = loadValues(examples[env]);
      const runs = rendered[env].filter((o) => o.kind === "CronWorkflow" || o.kind === "Workflow");
      expect(runs.length).toBeGreaterThan(0);
      for (const run of runs) {
        const name = unitOf(run)!;
        // One line of JSON: `argo get` prints parameters above the node tree.
        expect(rawUnitParameter(run)).not.toContain("\n");
        const doc = seedingUnit.parse(unitParameter(run));
        expect(doc).toEqual(unitFromValues(name, values.units[name]!, NS));
        expect(doc.spec.namespace).toBe(values.units[name]!.namespace ?? NS);
        const kind = registry.get(doc.spec.ensure.kind);
        expect(
          kind?.patterns,
          `${name}: kind ${doc.spec.ensure.kind} runs under pattern ${doc.spec.pattern}`,
        ).toContain(doc.spec.pattern);
        expect(kind!.spec.safeParse(doc.spec.ensure.with).success, `${name}: ensure.with parses`).toBe(true);
      }
    });

    it(`${env}: carries references only, never a literal secret (C5)`, () => {
      const secretish = /pass(word)?|token|secret|credential|api[-_]?key|private/i;
      for (const run of rendered[env].filter((o) => o.kind === "CronWorkflow" || o.kind === "Workflow")) {
        const raw = unitParameter(run);
        const doc: SeedingUnit = seedingUnit.parse(raw);
        const leaks: string[] = [];
        const walk = (v: unknown, at: string) => {
          if (Array.isArray(v)) return v.forEach((x, i) => walk(x, `${at}[${i}]`));
          if (!v || typeof v !== "object") return;
          for (const [k, x] of Object.entries(v)) {
            const literal =
              typeof x === "string" ||
              (x && typeof x === "object" && typeof (x as { value?: unknown }).value === "string");
            if (secretish.test(k) && literal) leaks.push(`${at}.${k}`);
            walk(x, `${at}.${k}`);
          }
        };
        walk(raw, "unit");
        const secretLiterals = Object.entries(doc.spec.inputs).filter(([, ref]) => {
          const parsed = inputRef.parse(ref);
          return "value" in parsed && parsed.secret === true;
        });
        expect(
          secretLiterals.map(([name]) => name),
          `${run.metadata.name}: literal inputs marked secret`,
        ).toEqual([]);
        expect(leaks, `${run.metadata.name}`).toEqual([]);
      }
    });
  }
});

describe("RBAC: least privilege derived from each unit", () => {
  for (const env of ["dev", "prod"] as const) {
    it(`${env}: every enabled unit has its ServiceAccount and exactly the derived rules`, () => {
      const values = loadValues(examples[env]);
      for (const [name, v] of Object.entries(values.units).filter(([, u]) => u.enabled)) {
        only(rendered[env], "ServiceAccount", `reseed-${name}`);
        expect([...renderedGrants(rendered[env], name)].sort(), name).toEqual([...expectedGrants(name, v)].sort());
        for (const role of rendered[env].filter((o) => o.kind === "Role" && o.metadata.name === `reseed-${name}`)) {
          const binding = only(rendered[env], "RoleBinding", `reseed-${name}`, role.metadata.namespace);
          expect(binding.roleRef).toEqual({
            apiGroup: "rbac.authorization.k8s.io",
            kind: "Role",
            name: `reseed-${name}`,
          });
          expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: `reseed-${name}`, namespace: NS }]);
        }
      }
    });
  }

  it("names every object it may read or change; only create is unlimited; no wildcards", () => {
    for (const objs of Object.values(rendered)) {
      for (const role of objs.filter((o) => o.kind === "Role")) {
        for (const r of z.array(rule).parse(role.rules)) {
          const where = `${role.metadata.namespace}/${role.metadata.name} ${r.resources.join(",")} ${r.verbs.join(",")}`;
          expect([...r.verbs, ...r.resources, ...r.apiGroups], where).not.toContain("*");
          for (const verb of ["list", "watch", "delete", "deletecollection", "escalate", "bind", "impersonate"])
            expect(r.verbs, where).not.toContain(verb);
          // Reads and changes name their objects; create cannot be limited by name in Kubernetes
          // (nor can the task results Argo's executor creates and then patches).
          const readsOrChanges =
            r.verbs.some((v) => ["get", "update", "patch"].includes(v)) && r.resources[0] !== "workflowtaskresults";
          const problems = {
            unnamedReadOrChange: readsOrChanges && !r.resourceNames?.length,
            namedCreate: r.verbs.includes("create") && r.resourceNames !== undefined,
          };
          expect(problems, where).toEqual({ unnamedReadOrChange: false, namedCreate: false });
        }
      }
    }
  });

  it("derives rules from every kind of reference, across namespaces", () => {
    const unit = {
      enabled: true,
      pattern: "reconciler",
      namespace: "apps",
      inputs: {
        adminEmail: { secretKeyRef: { name: "coder-admin", key: "email" } },
        adminPassword: { secretKeyRef: { name: "coder-admin", key: "password" } },
        vaultToken: { secretKeyRef: { name: "vault", key: "token", namespace: "vault" } },
        issuer: { configMapKeyRef: { name: "cluster-facts", key: "oidcIssuer", namespace: "reseed" } },
        region: { env: "AZURE_REGION" },
      },
      dependencies: [
        { http: { url: "http://coder.coder.svc:8080/healthz" } },
        {
          kubernetes: {
            apiVersion: "apps/v1",
            kind: "Deployment",
            name: "coder",
            namespace: "coder",
            condition: "Available",
          },
        },
        { kubernetes: { apiVersion: "v1", kind: "Service", name: "coder" } },
        { kubernetes: { apiVersion: "networking.k8s.io/v1", kind: "Ingress", name: "coder" } },
        { kubernetes: { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", name: "coder" } },
        { kubernetes: { apiVersion: "v1", kind: "Endpoints", name: "coder" } },
        { kubernetes: { apiVersion: "example.com/v1", kind: "Cactus", resource: "cacti", name: "coder" } },
      ],
      ensure: {
        kind: "generated-secret",
        with: { secret: { name: "coder-db", namespace: "coder" }, keys: [{ name: "password" }] },
      },
    };
    const objs = render(valuesFile({ units: { wide: unit } }));
    expect([...renderedGrants(objs, "wide")].sort()).toEqual(
      [...expectedGrants("wide", unitValues.parse(unit))].sort(),
    );
    const apps = only(objs, "Role", "reseed-wide", "apps");
    expect(z.array(rule).parse(apps.rules)).toEqual(
      expect.arrayContaining([
        { apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: ["coder-admin"] },
        { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: ["get"], resourceNames: ["coder"] },
        { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: ["get"], resourceNames: ["coder"] },
        { apiGroups: [""], resources: ["endpoints"], verbs: ["get"], resourceNames: ["coder"] },
        { apiGroups: ["example.com"], resources: ["cacti"], verbs: ["get"], resourceNames: ["coder"] },
      ]),
    );
    expect(z.array(rule).parse(only(objs, "Role", "reseed-wide", "coder").rules)).toEqual([
      { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"], resourceNames: ["coder"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["get", "update", "patch"], resourceNames: ["coder-db"] },
    ]);
    expect(z.array(rule).parse(only(objs, "Role", "reseed-wide", "vault").rules)).toEqual([
      { apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: ["vault"] },
    ]);
  });

  it("takes service account annotations and labels from values (workload identity)", () => {
    const objs = render(
      examples.prod,
      valuesFile({
        units: {
          "cluster-facts": {
            serviceAccount: {
              annotations: { "azure.workload.identity/client-id": "00000000-0000-0000-0000-000000000000" },
              labels: { team: "platform" },
            },
          },
        },
      }),
    );
    const sa = only(objs, "ServiceAccount", "reseed-cluster-facts");
    expect(sa.metadata.annotations).toEqual({
      "azure.workload.identity/client-id": "00000000-0000-0000-0000-000000000000",
    });
    expect(sa.metadata.labels?.team).toBe("platform");
  });

  it("wires workload identity for the Key Vault examples: the client-id annotation and the pod label", () => {
    for (const unit of ["keyvault-sync", "workspace-credentials"]) {
      expect(
        only(rendered.prod, "ServiceAccount", `reseed-${unit}`).metadata.annotations?.[
          "azure.workload.identity/client-id"
        ],
      ).toMatch(/^[0-9a-f-]{36}$/);
      expect(
        workflowSpecOf(only(rendered.prod, "CronWorkflow", unit)).podMetadata?.labels["azure.workload.identity/use"],
      ).toBe("true");
    }
    // Key Vault is authorized by its own access policy: an AKV -> AKV unit needs no Secret rule.
    const kvRules = z.array(rule).parse(only(rendered.prod, "Role", "reseed-keyvault-sync").rules);
    expect(kvRules.filter((r) => r.resources.includes("secrets"))).toEqual([]);
  });

  it("secret-sync gets get on a Kubernetes source, and get/update/patch + create on a Kubernetes destination", () => {
    const objs = render(
      examples.dev,
      valuesFile({
        units: {
          copy: {
            enabled: true,
            pattern: "reconciler",
            ensure: {
              kind: "secret-sync",
              with: {
                from: { kubernetesSecret: { name: "src", namespace: "a" } },
                to: { kubernetesSecret: { name: "dst" } },
                keys: ["k"],
                drift: "correct",
              },
            },
          },
        },
      }),
    );
    expect(z.array(rule).parse(only(objs, "Role", "reseed-copy", "a").rules)).toEqual([
      { apiGroups: [""], resources: ["secrets"], verbs: ["get"], resourceNames: ["src"] },
    ]);
    expect(
      z
        .array(rule)
        .parse(only(objs, "Role", "reseed-copy").rules)
        .filter((r) => r.resources.includes("secrets")),
    ).toEqual([
      { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["get", "update", "patch"], resourceNames: ["dst"] },
    ]);
  });

  it("a fan-out unit gets a ClusterRole with exactly its kind's declared rules, and nothing broader", () => {
    const file = path.join(chartDir, "examples/values-fan-out.yaml");
    const objs = render(file);
    const values = loadValues(file);
    for (const name of ["workspace-pull-token", "workspace-fic"]) {
      expect([...renderedGrants(objs, name)].sort(), name).toEqual(
        [...expectedGrants(name, values.units[name]!)].sort(),
      );
      const binding = only(objs, "ClusterRoleBinding", `${NS}:reseed-${name}`, NS);
      expect(binding.roleRef).toEqual({
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: `${NS}:reseed-${name}`,
      });
      expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: `reseed-${name}`, namespace: NS }]);
    }
    expect(z.array(rule).parse(only(objs, "ClusterRole", `${NS}:reseed-workspace-pull-token`, NS).rules)).toEqual([
      { apiGroups: [""], resources: ["namespaces"], verbs: ["list"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["delete", "list", "update"], resourceNames: ["ghcr-pull"] },
      { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
    ]);
    expect(z.array(rule).parse(only(objs, "ClusterRole", `${NS}:reseed-workspace-fic`, NS).rules)).toEqual([
      { apiGroups: [""], resources: ["namespaces"], verbs: ["list"] },
      { apiGroups: [""], resources: ["serviceaccounts"], verbs: ["list"] },
    ]);
    // Nothing broader: no wildcard, no get or watch of Secrets, no verb on Secrets other than create without the one name.
    for (const role of objs.filter((o) => o.kind === "ClusterRole")) {
      for (const r of z.array(rule).parse(role.rules)) {
        expect([...r.verbs, ...r.resources, ...r.apiGroups]).not.toContain("*");
        for (const verb of ["get", "watch", "patch", "deletecollection", "escalate", "bind", "impersonate"])
          expect(r.verbs).not.toContain(verb);
        if (r.resources.includes("secrets") && !r.verbs.every((v) => v === "create"))
          expect(r.resourceNames).toEqual(["ghcr-pull"]);
      }
    }
    // The single-target examples need no ClusterRole at all.
    for (const env of ["dev", "prod", "local"] as const)
      expect(rendered[env].filter((o) => o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding")).toEqual([]);
  });

  it("fails rendering when a kind's target is missing: the schema first, the chart as well", () => {
    const values = valuesFile({
      units: {
        x: {
          enabled: true,
          pattern: "reconciler",
          ensure: { kind: "runtime-facts", with: { configMap: { namespace: "a" }, facts: { a: "b" } } },
        },
      },
    });
    const bySchema = template([values]);
    expect(bySchema.ok).toBe(false);
    expect(bySchema.err).toMatch(/schema[\s\S]*configMap/);
    const byChart = template([values], "--skip-schema-validation");
    expect(byChart.ok).toBe(false);
    expect(byChart.err).toContain("units.x.ensure.with.configMap.name is required for kind runtime-facts");
  });
});

describe("no literal secrets (C5)", () => {
  it("fails rendering a literal input marked secret: the schema names the field, the chart where the value must come from", () => {
    const values = valuesFile({
      units: {
        lit: {
          enabled: true,
          pattern: "reconciler",
          inputs: { pw: { value: "hunter22-secret", secret: true } },
          ensure: { kind: "runtime-facts", with: { configMap: { name: "f" }, facts: { a: "b" } } },
        },
      },
    });
    const bySchema = template([values]);
    expect(bySchema.ok).toBe(false);
    expect(bySchema.err).toMatch(/schema[\s\S]*\/units\/lit\/inputs\/pw\/secret/);
    const byChart = template([values], "--skip-schema-validation");
    expect(byChart.ok).toBe(false);
    expect(byChart.err).toContain("units.lit.inputs.pw.secret: a literal value is never secret");
    expect(byChart.err).toContain("secretKeyRef, vault or keyVault");
    expect(byChart.out).not.toContain("hunter22-secret");
  });
});

describe("WorkflowTemplate reseed-unit", () => {
  const steps = ["validate-inputs", "wait-deps", "ensure-state", "verify"] as const;
  const tmpl = () => only(rendered.dev, "WorkflowTemplate", "reseed-unit");
  const spec = () =>
    z
      .looseObject({
        templates: z.array(z.looseObject({ name: z.string() })),
        metrics: z.object({ prometheus: z.array(z.looseObject({ name: z.string(), help: z.string() })) }),
        arguments: z.object({ parameters: z.array(z.looseObject({ name: z.string() })) }),
      })
      .parse(tmpl().spec);
  const stepTemplate = (name: string) => {
    const t = spec().templates.find((x) => x.name === name);
    if (!t) throw new Error(`no template ${name}`);
    return t as Record<string, unknown>;
  };
  const dag = (name: string) =>
    z
      .object({
        tasks: z.array(z.looseObject({ name: z.string(), template: z.string(), depends: z.string().optional() })),
      })
      .parse(stepTemplate(name).dag).tasks;

  it("is the same in every environment", () => {
    expect(only(rendered.prod, "WorkflowTemplate", "reseed-unit")).toEqual(tmpl());
  });

  it("reconcile is validate-inputs -> wait-deps -> ensure-state -> verify; verify-only skips ensure", () => {
    expect(dag("reconcile").map((t) => [t.name, t.depends])).toEqual([
      ["validate-inputs", undefined],
      ["wait-deps", "validate-inputs"],
      ["ensure-state", "wait-deps"],
      ["verify", "ensure-state"],
    ]);
    expect(dag("verify-only").map((t) => [t.name, t.depends])).toEqual([
      ["validate-inputs", undefined],
      ["wait-deps", "validate-inputs"],
      ["verify", "wait-deps"],
    ]);
    for (const t of [...dag("reconcile"), ...dag("verify-only")].filter((t) => t.name !== "validate-inputs")) {
      expect(t.arguments).toEqual({
        parameters: [{ name: "fingerprint", value: "{{tasks.validate-inputs.outputs.parameters.fingerprint}}" }],
      });
    }
  });

  it("runs each step from its image under the step contract", () => {
    const container = z.looseObject({
      image: z.string(),
      imagePullPolicy: z.string(),
      command: z.array(z.string()),
      env: z.array(z.looseObject({ name: z.string(), value: z.string().optional() })),
      volumeMounts: z.array(z.object({ name: z.string(), mountPath: z.string() })),
      securityContext: z.unknown(),
      resources: z.unknown(),
    });
    // The Dockerfile is the authority for each image's entrypoint; the template repeats it so
    // Argo's emissary executor never has to look it up in a registry.
    const entrypoints: Record<string, string[]> = {};
    let target = "";
    for (const line of readFileSync(path.join(root, "steps/Dockerfile"), "utf8").split("\n")) {
      const from = /^FROM\s+\S+\s+AS\s+(\S+)/i.exec(line);
      if (from) target = from[1]!;
      const entry = /^ENTRYPOINT\s+(\[.*\])\s*$/.exec(line);
      if (entry) entrypoints[target] = JSON.parse(entry[1]!) as string[];
    }
    for (const step of steps) {
      const t = stepTemplate(step);
      const c = container.parse(t.container);
      expect(c.image).toMatch(new RegExp(`^ghcr\\.io/reseed-dev/reseed-${step}:\\d+\\.\\d+\\.\\d+`)); // the tag: images.test.ts
      expect(c.imagePullPolicy).toBe("IfNotPresent");
      expect(t).not.toHaveProperty("script");
      expect(c.command, `${step}: command is the image's ENTRYPOINT`).toEqual(entrypoints[step]);
      const env = Object.fromEntries(c.env.map((e) => [e.name, e]));
      expect(env.RESEED_UNIT?.value).toBe("{{workflow.parameters.unit}}");
      expect(env.RESEED_WORKFLOW_NAME?.value).toBe("{{workflow.name}}");
      expect(env.RESEED_WORKFLOW_UID?.value).toBe("{{workflow.uid}}");
      expect(env.RESEED_CRONWORKFLOW?.value).toBe("{{workflow.parameters.cron-workflow}}");
      expect(env.RESEED_NAMESPACE?.valueFrom).toEqual({ fieldRef: { fieldPath: "metadata.namespace" } });
      expect(env.RESEED_OUTPUT_DIR?.value).toBe("/tmp/reseed/outputs");
      expect(env.RESEED_FINGERPRINT?.value).toBe(
        step === "validate-inputs" ? undefined : "{{inputs.parameters.fingerprint}}",
      );
      expect(c.volumeMounts).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
      expect(c.securityContext).toEqual({
        runAsNonRoot: true,
        runAsUser: 65532,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      });
      expect(c.resources).toEqual({ requests: { cpu: "50m", memory: "80Mi" }, limits: { memory: "256Mi" } });
    }
    expect(tmpl().spec).toMatchObject({ volumes: [{ name: "tmp", emptyDir: {} }] });
  });

  it("every step reports result and summary, with defaults so a failed step still reports", () => {
    const extra: Record<(typeof steps)[number], string[]> = {
      "validate-inputs": ["fingerprint", "facts"],
      "wait-deps": [],
      "ensure-state": ["action", "unit", "targets", "created", "updated", "unchanged"],
      verify: [],
    };
    for (const step of steps) {
      const outputs = z
        .object({
          parameters: z.array(
            z.object({ name: z.string(), valueFrom: z.object({ path: z.string(), default: z.string() }) }),
          ),
        })
        .parse(stepTemplate(step).outputs).parameters;
      expect(outputs.map((o) => o.name)).toEqual(["result", "summary", ...extra[step]]);
      for (const o of outputs) expect(o.valueFrom.path).toBe(`/tmp/reseed/outputs/${o.name}`);
      expect(outputs.find((o) => o.name === "result")?.valueFrom.default).toBe("failed");
      expect(JSON.parse(outputs.find((o) => o.name === "summary")!.valueFrom.default)).toMatchObject({
        step,
        result: "failed",
      });
    }
  });

  it("declares valid Prometheus metrics: last success time and runs by result", () => {
    const metrics = spec().metrics.prometheus;
    expect(metrics.map((m) => m.name)).toEqual([
      "reseed_unit_last_success_timestamp_seconds",
      "reseed_unit_runs_total",
    ]);
    for (const m of metrics) {
      expect(m.name).toMatch(/^[a-zA-Z_][a-zA-Z0-9_]*$/);
      expect(m.help).not.toBe("");
    }
    // Checked against Argo v3.7's template engine: evaluates to creation time + run time in seconds.
    expect(metrics[0]).toMatchObject({
      when: "{{workflow.status}} == Succeeded",
      labels: [{ key: "unit", value: "{{workflow.labels.reseed.dev/unit}}" }],
      gauge: { realtime: false, value: "{{=asInt(workflow.creationTimestamp.s) + asFloat(workflow.duration)}}" },
    });
    expect(metrics[1]).toMatchObject({
      counter: { value: "1" },
      labels: [{ key: "unit" }, { key: "result", value: "{{workflow.status}}" }],
    });
  });

  it("ensure-state gauges its targets and what the run did to them, from its own outputs (C4)", () => {
    const metrics = z
      .array(
        z.object({
          name: z.string(),
          labels: z.array(z.object({ key: z.string(), value: z.string() })),
          when: z.string(),
          gauge: z.object({ realtime: z.boolean(), value: z.string() }),
        }),
      )
      .parse((stepTemplate("ensure-state") as { metrics: { prometheus: unknown } }).metrics.prometheus);
    expect(metrics.map((m) => [m.name, m.labels[1]!.value, m.gauge.value])).toEqual(
      ["targets", "created", "updated", "unchanged"].map((c) => [
        "reseed_unit_targets",
        c,
        `{{outputs.parameters.${c}}}`,
      ]),
    );
    for (const m of metrics)
      expect(m).toMatchObject({
        when: "{{status}} == Succeeded",
        gauge: { realtime: false },
        labels: [{ key: "unit", value: "{{outputs.parameters.unit}}" }, { key: "count" }],
      });
    for (const step of ["validate-inputs", "wait-deps", "verify"] as const)
      expect((stepTemplate(step) as { metrics?: unknown }).metrics).toBeUndefined();
  });

  it("documents the step exit codes", () => {
    const r = template([examples.dev]);
    for (const [code, meaning] of [
      ["0", "ok"],
      ["10", "invalid spec"],
      ["11", "missing input"],
      ["12", "dependency timeout"],
      ["13", "ensure failed"],
      ["14", "verify failed"],
      ["1", "internal error"],
    ]) {
      expect(r.out).toMatch(new RegExp(`^#\\s+${code}\\s+${meaning}`, "m"));
    }
  });
});

describe("runMode containerSet: one pod per run (docs/operating.md#run-modes)", () => {
  const steps = ["validate-inputs", "wait-deps", "ensure-state", "verify"] as const;
  const containerSetRender = (file: string) => {
    const r = template([file], "--set", "runMode=containerSet");
    if (!r.ok) throw new Error(`helm template failed:\n${r.err}`);
    return r.out;
  };
  const objs = () => parseObjects(containerSetRender(examples.dev));
  const container = z.looseObject({
    name: z.string(),
    dependencies: z.array(z.string()).optional(),
    image: z.string(),
    command: z.array(z.string()),
    env: z.array(z.looseObject({ name: z.string(), value: z.string().optional() })).optional(),
    volumeMounts: z.unknown().optional(),
    resources: z.unknown(),
  });
  const runTemplate = z.looseObject({
    name: z.string(),
    outputs: z.object({
      parameters: z.array(
        z.object({ name: z.string(), valueFrom: z.object({ path: z.string(), default: z.string() }) }),
      ),
    }),
    containerSet: z.object({
      volumeMounts: z.array(z.object({ name: z.string(), mountPath: z.string() })),
      containers: z.array(container),
    }),
    metrics: z
      .object({ prometheus: z.array(z.looseObject({ name: z.string(), when: z.string(), labels: z.unknown() })) })
      .optional(),
  });
  const templates = (o: Obj) =>
    z
      .object({ templates: z.array(runTemplate) })
      .parse((o.kind === "CronWorkflow" ? (o.spec as { workflowSpec: unknown }).workflowSpec : o.spec) as unknown)
      .templates;

  it("renders the two entrypoints as containerSets: the steps in order, each after the one before, then main", () => {
    const byName = Object.fromEntries(
      templates(only(objs(), "WorkflowTemplate", "reseed-unit")).map((t) => [t.name, t]),
    );
    expect(Object.keys(byName)).toEqual(["reconcile", "verify-only"]);
    for (const [name, ran] of [
      ["reconcile", steps],
      ["verify-only", ["validate-inputs", "wait-deps", "verify"]],
    ] as const) {
      const containers = byName[name]!.containerSet.containers;
      const order = [...ran, "main"];
      expect(containers.map((c) => [c.name, c.dependencies])).toEqual(
        order.map((c, i) => [c, i === 0 ? undefined : [order[i - 1]]]),
      );
      expect(byName[name]!.containerSet.volumeMounts).toEqual([{ name: "tmp", mountPath: "/tmp" }]);
      // main exists only because Argo saves a containerSet's outputs through a container of that name.
      expect(containers.at(-1)!.command).toEqual(["/nodejs/bin/node", "-e", "0"]);
    }
  });

  it("each step keeps its image and contract; outputs per step under /tmp, the fingerprint read from validate-inputs' file", () => {
    const dag = only(rendered.dev, "WorkflowTemplate", "reseed-unit").spec as {
      templates: { name: string; container?: { env: { name: string }[]; image: string; command: string[] } }[];
    };
    const reconcile = templates(only(objs(), "WorkflowTemplate", "reseed-unit")).find((t) => t.name === "reconcile")!;
    for (const step of steps) {
      const c = reconcile.containerSet.containers.find((x) => x.name === step)!;
      const d = dag.templates.find((t) => t.name === step)!.container!;
      expect(c.image).toBe(d.image);
      expect(c.command).toEqual(d.command);
      expect(c.volumeMounts, "the containerSet mounts /tmp for all").toBeUndefined();
      const env = Object.fromEntries(c.env!.map((e) => [e.name, e.value]));
      expect(env.RESEED_OUTPUT_DIR).toBe(`/tmp/reseed/outputs/${step}`);
      expect(env.RESEED_FINGERPRINT).toBeUndefined();
      expect(env.RESEED_FINGERPRINT_FILE).toBe(
        step === "validate-inputs" ? undefined : "/tmp/reseed/outputs/validate-inputs/fingerprint",
      );
      const others = (names: { name: string }[]) =>
        names.map((e) => e.name).filter((n) => !n.startsWith("RESEED_FINGERPRINT"));
      expect(others(c.env!)).toEqual(others(d.env));
    }
    const outputs = reconcile.outputs.parameters;
    expect(outputs.map((o) => o.name)).toEqual([
      ...["result", "summary", "exit-code", "fingerprint", "facts"].map((n) => `validate-inputs-${n}`),
      ...["result", "summary", "exit-code"].map((n) => `wait-deps-${n}`),
      ...["result", "summary", "exit-code", "action", "unit", "targets", "created", "updated", "unchanged"].map(
        (n) => `ensure-state-${n}`,
      ),
      ...["result", "summary", "exit-code"].map((n) => `verify-${n}`),
    ]);
    for (const o of outputs) {
      const step = steps.find((s) => o.name.startsWith(`${s}-`))!;
      expect(o.valueFrom.path).toBe(`/tmp/reseed/outputs/${step}/${o.name.slice(step.length + 1)}`);
    }
    // A step that did not run wrote no result: "none", never "failed".
    for (const step of steps) expect(outputs.find((o) => o.name === `${step}-result`)!.valueFrom.default).toBe("none");
  });

  it("keeps the metrics: targets from ensure-state's outputs, failures by step and exit code in every CronWorkflow", () => {
    const cron = only(objs(), "CronWorkflow", "coder-db-password");
    const reconcile = templates(cron).find((t) => t.name === "reconcile")!;
    const metrics = reconcile.metrics!.prometheus;
    expect(metrics.filter((m) => m.name === "reseed_unit_targets").map((m) => m.labels)).toEqual(
      ["targets", "created", "updated", "unchanged"].map((c) => [
        { key: "unit", value: "{{outputs.parameters.ensure-state-unit}}" },
        { key: "count", value: c },
      ]),
    );
    const failures = metrics.filter((m) => m.name === "reseed_step_failures_total");
    expect(failures.map((m) => [m.when, m.labels])).toEqual(
      steps.map((step) => [
        `{{outputs.parameters.${step}-result}} == failed`,
        [
          { key: "unit", value: "{{workflow.labels.reseed.dev/unit}}" },
          { key: "step", value: step },
          { key: "exit_code", value: `{{outputs.parameters.${step}-exit-code}}` },
        ],
      ]),
    );
  });

  it("argo lint accepts it (--offline --strict), dev and prod", () => {
    const argo = process.env.RESEED_ARGO;
    if (!argo || !existsSync(argo)) {
      throw new Error(
        `RESEED_ARGO must name an argo CLI binary (got ${JSON.stringify(argo ?? null)}): run \`make servers\` to build it`,
      );
    }
    const dir = mkdtempSync(path.join(scratch(), "container-set-"));
    for (const env of ["dev", "prod"] as const) {
      const file = path.join(dir, `${env}.yaml`);
      writeFileSync(file, containerSetRender(examples[env]));
      const r = run(argo, ["lint", "--offline", "--strict", "--output", "simple", file]);
      expect(r.ok, `${env}: ${r.out}${r.err}`).toBe(true);
    }
  });
});

describe("generated copies (charts/render.sh)", () => {
  it("workflowtemplates/ and cronworkflows/ are what the chart renders now", () => {
    const out = mkdtempSync(path.join(scratch(), "render-"));
    const r = run("bash", [path.join(root, "charts/render.sh"), out], { ...process.env, HELM: helmPath() });
    expect(r.err).toBe("");
    expect(r.ok).toBe(true);
    const files = (dir: string) =>
      readdirSync(path.join(dir, "cronworkflows"))
        .filter((f) => f.endsWith(".yaml"))
        .sort();
    expect(files(out)).toEqual([
      "cluster-facts.yaml",
      "coder-admin.yaml",
      "coder-db-password.yaml",
      "dev-data-seed.yaml",
      "grafana-oidc-secret.yaml",
      "platform-db.yaml",
    ]);
    for (const f of ["workflowtemplates/reseed-unit.yaml", ...files(out).map((f) => `cronworkflows/${f}`)]) {
      const fresh = readFileSync(path.join(out, f), "utf8");
      expect(fresh.startsWith("# Generated by make generate from charts/reseed — do not edit.\n"), f).toBe(true);
      expect(readFileSync(path.join(root, f), "utf8"), `${f} is stale: run make generate`).toBe(fresh);
    }
    expect(files(root)).toEqual(files(out));
  });
});

describe("argo lint", () => {
  it("accepts the generated WorkflowTemplate and units (--offline --strict)", () => {
    const argo = process.env.RESEED_ARGO;
    if (!argo || !existsSync(argo)) {
      throw new Error(
        `RESEED_ARGO must name an argo CLI binary (got ${JSON.stringify(argo ?? null)}): run \`make servers\` to build it`,
      );
    }
    const files = [
      path.join(root, "workflowtemplates/reseed-unit.yaml"),
      ...readdirSync(path.join(root, "cronworkflows")).map((f) => path.join(root, "cronworkflows", f)),
    ];
    const prodUnits = mkdtempSync(path.join(scratch(), "prod-"));
    const prod = template([examples.prod]).out;
    writeFileSync(path.join(prodUnits, "prod.yaml"), prod);
    for (const set of [files, [path.join(prodUnits, "prod.yaml")]]) {
      const r = run(argo, ["lint", "--offline", "--strict", "--output", "simple", ...set]);
      expect(r.ok, r.out + r.err).toBe(true);
    }
  });

  it("accepts each generated CronWorkflow unit file alone, without the WorkflowTemplate; a hook unit's file with it", () => {
    const argo = process.env.RESEED_ARGO;
    if (!argo || !existsSync(argo)) {
      throw new Error(
        `RESEED_ARGO must name an argo CLI binary (got ${JSON.stringify(argo ?? null)}): run \`make servers\` to build it`,
      );
    }
    const units = readdirSync(path.join(root, "cronworkflows")).map((f) => path.join(root, "cronworkflows", f));
    const hookFiles = units.filter((f) => /^kind: Workflow$/m.test(readFileSync(f, "utf8")));
    expect(hookFiles.map((f) => path.basename(f))).toEqual(["dev-data-seed.yaml"]);
    for (const file of units) {
      const set = hookFiles.includes(file) ? [path.join(root, "workflowtemplates/reseed-unit.yaml"), file] : [file];
      const r = run(argo, ["lint", "--offline", "--strict", "--output", "simple", ...set]);
      expect(r.ok, `${path.basename(file)}: ${r.out}${r.err}`).toBe(true);
    }
  });
});
