// The chart's optional monitoring: the PrometheusRule checked and its alerts exercised by
// promtool (Prometheus' own rule parser and evaluator), the Grafana dashboard parsed and
// each query checked to name only metrics the runs emit and to parse as PromQL.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { chartDir, examples, render, run, valuesFiles, type Obj } from "../harness/helm.js";

let scratch: string;
const valuesFile = valuesFiles(() => scratch);
beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), "reseed-monitoring-"));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function promtool(...args: string[]) {
  const bin = process.env.RESEED_PROMTOOL;
  if (!bin || !existsSync(bin))
    throw new Error(
      `RESEED_PROMTOOL must name a promtool binary (got ${JSON.stringify(bin ?? null)}): run \`make servers\` to build it`,
    );
  return run(bin, args);
}

const PREFIX = "argo_workflows_"; // Argo 3.6+; the chart's default monitoring.metricPrefix
const on = () =>
  render(
    examples.dev,
    valuesFile({ monitoring: { prometheusRule: { enabled: true }, grafanaDashboard: { enabled: true } } }),
  );

interface Metric {
  name: string;
}
/** Every metric name a run emits: the workflow-level and the step templates' metrics of the rendered CronWorkflows, as Argo exports them. */
function emitted(objs: Obj[]): Set<string> {
  const names = new Set<string>();
  for (const o of objs.filter((x) => x.kind === "CronWorkflow")) {
    const spec = (
      o.spec as {
        workflowSpec: { metrics?: { prometheus: Metric[] }; templates: { metrics?: { prometheus: Metric[] } }[] };
      }
    ).workflowSpec;
    for (const m of [
      ...(spec.metrics?.prometheus ?? []),
      ...spec.templates.flatMap((t) => t.metrics?.prometheus ?? []),
    ])
      names.add(`${PREFIX}${m.name}`);
  }
  return names;
}
const metricNames = (expr: string) => [...expr.matchAll(/\b(?:argo_workflows_)?reseed_[a-z0-9_]+/g)].map((m) => m[0]);

describe("monitoring", () => {
  it("renders nothing by default", () => {
    const objs = render(examples.dev);
    expect(objs.filter((o) => o.kind === "PrometheusRule" || o.metadata.name === "reseed-dashboard")).toEqual([]);
  });

  it("the PrometheusRule passes `promtool check rules`, names only emitted metrics, and its alerts fire as documented (`promtool test rules`)", () => {
    const objs = on();
    const rule = objs.find((o) => o.kind === "PrometheusRule");
    expect(rule?.apiVersion).toBe("monitoring.coreos.com/v1");
    const groups = (rule!.spec as { groups: { rules: { alert: string; expr: string }[] }[] }).groups;
    expect(groups.flatMap((g) => g.rules.map((r) => r.alert))).toEqual(["ReseedUnitNotVerified", "ReseedUnitFailing"]);
    const names = emitted(objs);
    expect(names).toEqual(
      new Set([
        `${PREFIX}reseed_unit_last_success_timestamp_seconds`,
        `${PREFIX}reseed_unit_runs_total`,
        `${PREFIX}reseed_step_failures_total`,
        `${PREFIX}reseed_unit_targets`, // ensure-state's per-target gauge (docs/fan-out.md); no alert reads it
      ]),
    );
    for (const r of groups.flatMap((g) => g.rules)) {
      expect(metricNames(r.expr).length, r.alert).toBeGreaterThan(0);
      for (const m of metricNames(r.expr)) expect(names, `${r.alert}: ${m}`).toContain(m);
    }

    const rules = path.join(scratch, "rules.yaml");
    writeFileSync(rules, stringify(rule!.spec));
    const check = promtool("check", "rules", rules);
    expect(check.err + check.out, "promtool check rules").toContain("SUCCESS: 2 rules found");
    expect(check.ok).toBe(true);

    // 40 minutes of series: "ok" succeeds every minute; "stale" last succeeded at 0 (2,400 s
    // ago > 1,800); "broken" runs and fails at validate-inputs with exit 11, never succeeding.
    const series = (name: string, labels: string, values: string) => ({
      series: `${PREFIX}${name}{${labels}}`,
      values,
    });
    const test = {
      rule_files: [rules],
      evaluation_interval: "1m",
      tests: [
        {
          interval: "1m",
          input_series: [
            series("reseed_unit_last_success_timestamp_seconds", 'unit="ok"', "0+60x40"),
            series("reseed_unit_runs_total", 'unit="ok",result="Succeeded"', "0+1x40"),
            series("reseed_unit_last_success_timestamp_seconds", 'unit="stale"', "0x40"),
            series("reseed_unit_runs_total", 'unit="stale",result="Succeeded"', "1x40"),
            series("reseed_unit_runs_total", 'unit="broken",result="Failed"', "0+1x40"),
            series("reseed_step_failures_total", 'unit="broken",step="validate-inputs",exit_code="11"', "0+1x40"),
          ],
          alert_rule_test: [
            {
              eval_time: "40m",
              alertname: "ReseedUnitNotVerified",
              exp_alerts: ["broken", "stale"].map((unit) => ({
                exp_labels: { severity: "warning", unit },
                exp_annotations: {
                  summary: `reseed unit ${unit} not verified for 1800 seconds`,
                  description:
                    "`reseed status` shows its last run, exit code and clause; `argo get` on that run says why.",
                },
              })),
            },
            {
              eval_time: "40m",
              alertname: "ReseedUnitFailing",
              exp_alerts: [
                {
                  exp_labels: { severity: "warning", unit: "broken", step: "validate-inputs", exit_code: "11" },
                  exp_annotations: {
                    summary: "reseed unit broken: step validate-inputs exits 11",
                    description:
                      "More than 0.5 of the unit's runs failed in 1h. Exit 10 invalid spec (C5), 11 missing input and 12 dependency (C1), 13 ensure (C2), 14 verify (C3), 1 a bug in reseed.",
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const tests = path.join(scratch, "rules.test.yaml");
    writeFileSync(tests, stringify(test));
    const result = promtool("test", "rules", tests);
    expect(result.err + result.out, "promtool test rules").toContain("SUCCESS");
    expect(result.ok).toBe(true);
  });

  it("the Grafana dashboard is the shipped JSON; every query names only emitted metrics and parses as PromQL", () => {
    const objs = on();
    const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === "reseed-dashboard");
    expect(cm?.metadata.labels?.grafana_dashboard).toBe("1");
    const text = (cm!.data as Record<string, string>)["reseed.json"]!;
    expect(text).toBe(readFileSync(path.join(chartDir, "dashboards/reseed.json"), "utf8"));
    const dashboard = JSON.parse(text) as {
      uid: string;
      panels: { title: string; targets: { expr: string }[] }[];
      templating: { list: { name: string; query: unknown }[] };
    };
    expect(dashboard.uid).toBe("reseed-units");
    const queries = [
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => ({ where: p.title, expr: t.expr }))),
      ...dashboard.templating.list.flatMap((v) =>
        v.name === "unit" ? [{ where: "variable unit", expr: String((v.query as { query: string }).query) }] : [],
      ),
    ];
    expect(queries.length).toBeGreaterThanOrEqual(5);
    // Grafana substitutes its variables as text before the query reaches Prometheus.
    const grafana = (expr: string) =>
      expr.replaceAll("${metric_prefix}", PREFIX).replaceAll("$__rate_interval", "5m").replaceAll("$unit", ".*");
    const names = emitted(objs);
    const recording: { record: string; expr: string }[] = [];
    for (const [i, q] of queries.entries()) {
      const expr = grafana(q.expr);
      expect(metricNames(expr).length, q.where).toBeGreaterThan(0);
      for (const m of metricNames(expr)) expect(names, `${q.where}: ${m}`).toContain(m);
      // label_values() is Grafana's, not PromQL: its first argument is the query.
      const promql = expr.replace(/^label_values\((.*), *\w+\)$/, "$1");
      recording.push({ record: `reseed:dashboard_query_${i}`, expr: promql });
    }
    const file = path.join(scratch, "dashboard-queries.yaml");
    writeFileSync(file, stringify({ groups: [{ name: "dashboard", rules: recording }] }));
    const check = promtool("check", "rules", file);
    expect(check.err + check.out, "the dashboard's queries as PromQL").toContain(
      `SUCCESS: ${recording.length} rules found`,
    );
    expect(check.ok).toBe(true);
  });
});
