import { parseArgs } from "node:util";
import { ExitCode, SeedError, clauseOf } from "../core/errors.js";
import { guardProcessOutput } from "../runtime/runtime.js";
import { Redactor } from "../core/redact.js";
import { loadKinds } from "../kinds/kind.js";
import { kinds } from "../kinds/registry.js";
import { loadFiles, loadFilesOrThrow } from "./load.js";
import { evidenceTable, runUnits } from "./run.js";
import { chartKinds, jsonSchema, registryKinds } from "./schema.js";
import { DEFAULT_INTERVALS, readStatuses, statusTable, UNHEALTHY } from "./status.js";
// The one version (package.json), bundled in: chart appVersion and image tags are the same.
import pkg from "../../package.json" with { type: "json" };

const usage = `reseed — failfast, deterministic, self-healing seeding units

Usage:
  reseed lint <file>...               check unit files or chart values files; every problem, with field paths
  reseed schema [unit|values]         print the JSON Schema (values: the chart's values.schema.json)
  reseed schema chart-kinds           print the chart's per-kind access and secret inputs (templates/_kinds.tpl)
  reseed run <file>... [options]      run every unit (or every enabled unit of a values file) through
                                      validate-inputs, wait-deps, ensure-state and verify, in this process
      --kubeconfig <path>             default: KUBECONFIG, then ~/.kube/config
      --namespace <ns>                namespace for units that name none (default: the context's)
      --json                          print the evidence as JSON instead of a table
  reseed status [options]             every unit's last run (result, exit code, clause, action), age and next run,
                                      from the CronWorkflows and Workflows labelled reseed.dev/unit
      --kubeconfig, -n/--namespace    as above; -A, --all-namespaces for every namespace
      -o json                         print JSON instead of a table
      --intervals <n>                 a unit not successful within n schedule intervals is unhealthy (default ${DEFAULT_INTERVALS})
  reseed kinds                        list the registered unit kinds
  reseed version                      the release: the npm package, the images and the chart's appVersion

Exit codes: 0 ok, 10 invalid spec, 11 missing input, 12 dependency timeout, 13 ensure failed,
14 verify failed, 1 internal error; reseed status: ${UNHEALTHY} when any unit's last run failed or it
has not succeeded within --intervals.`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      kubeconfig: { type: "string" },
      namespace: { type: "string", short: "n" },
      json: { type: "boolean", default: false },
      output: { type: "string", short: "o" },
      intervals: { type: "string", default: String(DEFAULT_INTERVALS) },
      "all-namespaces": { type: "boolean", short: "A", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  const [command, ...files] = positionals;
  if (values.help || !command) {
    console.log(usage);
    return command || values.help ? ExitCode.ok : ExitCode.invalidSpec;
  }
  const namespace = values.namespace ?? process.env.RESEED_NAMESPACE ?? "default";
  switch (command) {
    case "lint": {
      if (!files.length)
        throw new SeedError(ExitCode.invalidSpec, "lint needs at least one file", "reseed lint units/*.yaml");
      let failed = false;
      for (const r of await loadFiles(files, await loadKinds(kinds), namespace, "lint")) {
        const f = r.file;
        if (r.problems.length) {
          failed = true;
          for (const p of r.problems) console.log(`${f}: ${p.subject || "(document)"}: ${p.message}`);
        } else {
          console.log(
            `${f}: ok (${r.units.length ? `${r.units.length} unit${r.units.length === 1 ? "" : "s"} to run: ${r.units.map((u) => u.unit.metadata.name).join(", ")}` : "no units to run"})`,
          );
        }
      }
      return failed ? ExitCode.invalidSpec : ExitCode.ok;
    }
    case "schema": {
      const target = files[0] ?? "unit";
      if (target === "chart-kinds") {
        process.stdout.write(chartKinds(registryKinds(await loadKinds(kinds))));
        return ExitCode.ok;
      }
      if (target !== "unit" && target !== "values")
        throw new SeedError(ExitCode.invalidSpec, `unknown schema "${target}"`, "use unit, values or chart-kinds");
      console.log(JSON.stringify(jsonSchema(target, registryKinds(await loadKinds(kinds))), null, 2));
      return ExitCode.ok;
    }
    case "status": {
      const intervals = Number(values.intervals);
      if (!Number.isInteger(intervals) || intervals < 1)
        throw new SeedError(
          ExitCode.invalidSpec,
          `--intervals ${values.intervals} is not a whole number of at least 1`,
          "e.g. --intervals 3",
        );
      if (values.output !== undefined && values.output !== "json")
        throw new SeedError(
          ExitCode.invalidSpec,
          `unknown output format "${values.output}"`,
          "-o json, or no -o for a table",
        );
      const statuses = await readStatuses({
        kubeconfig: values.kubeconfig,
        namespace: values.namespace,
        allNamespaces: values["all-namespaces"],
        intervals,
      });
      console.log(values.output === "json" ? JSON.stringify(statuses, null, 2) : statusTable(statuses));
      return statuses.every((s) => s.healthy) ? ExitCode.ok : UNHEALTHY;
    }
    case "version": {
      console.log(pkg.version);
      return ExitCode.ok;
    }
    case "kinds": {
      for (const k of registryKinds(await loadKinds(kinds)))
        console.log(
          `${k.kind.padEnd(22)} ${k.authority.padEnd(18)} ${k.patterns.join("|").padEnd(20)} ${k.description}`,
        );
      return ExitCode.ok;
    }
    case "run": {
      if (!files.length)
        throw new SeedError(ExitCode.invalidSpec, "run needs at least one file", "reseed run unit.yaml");
      const redactor = new Redactor();
      guardProcessOutput(redactor);
      const units = await loadFilesOrThrow(files, await loadKinds(kinds), namespace);
      const env = values.namespace ? { ...process.env, RESEED_NAMESPACE: values.namespace } : process.env;
      const evidence = await runUnits(units, { kubeconfig: values.kubeconfig, env, redactor });
      console.log(values.json ? JSON.stringify(evidence, null, 2) : `\n${evidenceTable(evidence)}`);
      return evidence.find((e) => e.exitCode !== ExitCode.ok)?.exitCode ?? ExitCode.ok;
    }
    default:
      throw new SeedError(ExitCode.invalidSpec, `unknown command "${command}"`, "reseed --help lists the commands");
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof SeedError) {
      console.error(`reseed: ${err.reason} (${clauseOf[err.code]})`);
      for (const p of err.problems) console.error(`  ${p.subject}: ${p.message}`);
      console.error(`hint: ${err.hint}`);
      process.exitCode = err.code;
    } else {
      console.error(`reseed: ${err instanceof Error ? err.message : String(err)}`);
      process.exitCode = ExitCode.internal;
    }
  },
);
