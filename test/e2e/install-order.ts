// `make e2e-install-order`: how Argo's cron controller takes the chart's CronWorkflows
// depending on when the WorkflowTemplate they need arrives — the options weighed for a first
// tick that works in any install order (docs/install-order.md). A measurement, not a test: it
// prints figures and asserts nothing.
//
// Each trial is a fresh namespace holding the chart's CronWorkflows (suspended: validation
// does not care, and no pod runs). The controller validates a CronWorkflow when it appears
// and logs either `invalid cron workflow` or `CronWorkflow <ns>/<name> added`; an invalid one
// is not looked at again until it changes or the 20-minute resync. The variants:
//   ref, rendered order        workflowTemplateRef; CronWorkflows, then the template, in one apply
//   ref, template first        the template first in the same apply (a Helm hook weight, a wave without delay)
//   ref, template 2 s before   the template, then the CronWorkflows 2 s later (Argo CD's default wave delay)
//   ref, re-triggered          rendered order, then an annotation patched onto each CronWorkflow
//   inline, no template        the templates inline (the chart now), no WorkflowTemplate at all
// and the size of the objects either way: the CronWorkflow, and a finished run's Workflow.
import path from "node:path";
import { examples, parseObjects, root, template, type Obj } from "../harness/helm.js";
import { cli, e2eEnv, Kube, waitFor } from "./cluster.js";

const TRIALS = Number(process.env.RESEED_ORDER_TRIALS ?? 5);
const VALUES = [examples.local, path.join(root, "test/e2e/fresh-install.yaml")];
const INLINE = ["securityContext", "volumes", "metrics", "templates"];

const env = e2eEnv();
const kube = new Kube(env.kubeconfig);

function objects(ns: string): { crons: Obj[]; refCrons: Obj[]; tmpl: Obj; all: Obj[] } {
  const r = template(VALUES, "--namespace", ns);
  if (!r.ok) throw new Error(`helm template failed:\n${r.err}`);
  const all = parseObjects(r.out);
  type CronSpec = { workflowSpec: Record<string, unknown>; suspend?: boolean };
  const crons = all
    .filter((o) => o.kind === "CronWorkflow")
    .map((o) => ({ ...o, spec: { ...(o.spec as CronSpec), suspend: true } }));
  // The same CronWorkflows as the chart rendered them before: a workflowTemplateRef instead of the inline templates.
  const refCrons = crons.map((o) => {
    const spec = o.spec;
    const wf = Object.fromEntries(Object.entries(spec.workflowSpec).filter(([k]) => !INLINE.includes(k)));
    return { ...o, spec: { ...spec, workflowSpec: { workflowTemplateRef: { name: "reseed-unit" }, ...wf } } };
  });
  return { crons, refCrons, tmpl: all.find((o) => o.kind === "WorkflowTemplate")!, all };
}

/** The hook unit's Workflow run once inline and once by reference: the size of each finished Workflow object. */
async function runSizes(): Promise<{ inline: number; ref: number }> {
  const ns = "reseed-order-run-size";
  await kube.json("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  try {
    const { all } = objects(ns);
    const hook = all.find((o) => o.kind === "Workflow")!;
    apply(
      ns,
      all.filter((o) => o !== hook),
    );
    const spec = hook.spec as Record<string, unknown>;
    const refSpec = {
      workflowTemplateRef: { name: "reseed-unit" },
      ...Object.fromEntries(Object.entries(spec).filter(([k]) => !INLINE.includes(k))),
    };
    const sizes = { inline: 0, ref: 0 };
    for (const [form, body] of [
      ["inline", spec],
      ["ref", refSpec],
    ] as const) {
      const name = `${hook.metadata.name}-${form}`;
      apply(ns, [{ ...hook, metadata: { ...hook.metadata, name, annotations: {} }, spec: body }]);
      const done = await waitFor(
        `workflow ${name} to finish`,
        300_000,
        async () => {
          const text = await kube.text(`/apis/argoproj.io/v1alpha1/namespaces/${ns}/workflows/${name}`);
          const phase = text ? (JSON.parse(text) as { status?: { phase?: string } }).status?.phase : undefined;
          return phase && ["Succeeded", "Failed", "Error"].includes(phase) ? { text: text!, phase } : undefined;
        },
        2000,
      );
      if (done.phase !== "Succeeded") throw new Error(`workflow ${name} ${done.phase}`);
      sizes[form] = done.text.length;
    }
    return sizes;
  } finally {
    await kube.json("DELETE", `/api/v1/namespaces/${ns}`, undefined, { allowed: [404] });
  }
}

const apply = (ns: string, items: Obj[]) =>
  cli(
    env,
    "kubectl",
    ["apply", "--server-side", "--namespace", ns, "--filename", "-"],
    JSON.stringify({ apiVersion: "v1", kind: "List", items }),
  );

async function controllerLog(sinceSeconds: number): Promise<string> {
  const pods = await kube.get<{ items: { metadata: { name: string } }[] }>(
    `/api/v1/namespaces/argo/pods?labelSelector=${encodeURIComponent("app=workflow-controller")}`,
  );
  const pod = pods.items[0]?.metadata.name;
  if (!pod) throw new Error("no workflow-controller pod in namespace argo");
  return (await kube.text(`/api/v1/namespaces/argo/pods/${pod}/log?sinceSeconds=${sinceSeconds}`)) ?? "";
}

/** Per CronWorkflow, what the controller last said of it: "added" or "invalid". */
async function verdicts(ns: string, names: string[], since: number, want?: "added"): Promise<Map<string, string>> {
  return waitFor(
    `the cron controller to take every CronWorkflow in ${ns}`,
    60_000,
    async () => {
      const lines = (await controllerLog(Math.ceil((Date.now() - since) / 1000) + 2)).split("\n");
      const out = new Map<string, string>();
      for (const name of names) {
        const key = `${ns}/${name}`;
        for (const line of lines) {
          if (line.includes(`CronWorkflow ${key} added`)) out.set(name, "added");
          else if (line.includes("invalid cron workflow") && line.includes(`cronWorkflow=${key}`))
            out.set(name, "invalid");
        }
      }
      const done = names.every((n) => out.has(n) && (want === undefined || out.get(n) === want));
      return done ? out : undefined;
    },
    500,
  );
}

async function trial(variant: string, i: number): Promise<{ added: number; total: number; retriggerS?: number }> {
  const ns = `reseed-order-${i}-${variant.replace(/[^a-z]+/g, "-").replace(/-$/, "")}`.slice(0, 63);
  await kube.json("POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } });
  try {
    const { crons, refCrons, tmpl } = objects(ns);
    const names = crons.map((o) => o.metadata.name);
    const since = Date.now();
    let retriggerS: number | undefined;
    if (variant === "ref, rendered order" || variant === "ref, re-triggered") apply(ns, [...refCrons, tmpl]);
    else if (variant === "ref, template first") apply(ns, [tmpl, ...refCrons]);
    else if (variant === "ref, template 2 s before") {
      apply(ns, [tmpl]);
      await new Promise((resolve) => setTimeout(resolve, 2000));
      apply(ns, refCrons);
    } else apply(ns, crons);
    let result = await verdicts(ns, names, since);
    if (variant === "ref, re-triggered") {
      const patched = Date.now();
      for (const name of names) {
        await kube.json(
          "PATCH",
          `/apis/argoproj.io/v1alpha1/namespaces/${ns}/cronworkflows/${name}`,
          { metadata: { annotations: { "reseed.dev/retrigger": String(patched) } } },
          { contentType: "application/merge-patch+json" },
        );
      }
      result = await verdicts(ns, names, since, "added");
      retriggerS = (Date.now() - patched) / 1000;
    }
    return {
      added: [...result.values()].filter((v) => v === "added").length,
      total: names.length,
      ...(retriggerS === undefined ? {} : { retriggerS }),
    };
  } finally {
    await kube.json("DELETE", `/api/v1/namespaces/${ns}`, undefined, { allowed: [404] });
  }
}

const { crons, refCrons } = objects("reseed");
const size = (objs: Obj[]) => Math.max(...objs.map((o) => JSON.stringify(o).length));
console.log(
  `largest CronWorkflow as JSON: ${size(refCrons)} bytes with workflowTemplateRef, ${size(crons)} bytes inline`,
);
const run = await runSizes();
console.log(
  `a finished run's Workflow object (the hook unit, Succeeded) as JSON: ${run.ref} bytes by reference, ${run.inline} bytes inline`,
);
console.log(`| variant | CronWorkflows scheduled at once (of all, over ${TRIALS} trials) | re-trigger to scheduled |`);
console.log(`|---|---|---|`);
for (const variant of [
  "ref, rendered order",
  "ref, template first",
  "ref, template 2 s before",
  "ref, re-triggered",
  "inline, no template",
]) {
  let added = 0;
  let total = 0;
  const retrigger: number[] = [];
  for (let i = 0; i < TRIALS; i++) {
    const r = await trial(variant, i);
    added += r.added;
    total += r.total;
    if (r.retriggerS !== undefined) retrigger.push(r.retriggerS);
  }
  const first =
    variant === "ref, re-triggered"
      ? `${added}/${total} after the patch (before it: as rendered order)`
      : `${added}/${total}`;
  console.log(
    `| ${variant} | ${first} | ${retrigger.length ? `${Math.max(...retrigger).toFixed(1)} s at most` : "—"} |`,
  );
}
