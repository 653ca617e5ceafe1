// Runs the leak hunt (leak-hunt.ts) for one unit with real step processes on the real API
// server: each endpoint of the unit pointed at the hostile server, in every mode, every
// phase run on its own (so each phase that can fail meets the echo), canaries in every
// secret input, and everything the runs leave scanned: each log line, each output file,
// each Event, and every object the unit's ServiceAccount wrote.
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Admin } from "../harness/kube-admin.js";
import { hostileModes, startHostileServer, type HostileServer } from "../harness/hostile-server.js";
import { runStepProcess, type StepName } from "../harness/steps.js";
import { makePki } from "../harness/pki.js";
import { CANARY_LENGTHS, canary, endpointsOf, findLeaks, pointAt, type Evidence, type Leak } from "./leak-hunt.js";

export interface HuntUnit {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: { pattern: string; inputs: Record<string, unknown>; waitTimeoutSeconds?: number } & Record<string, unknown>;
}

export interface HuntOptions {
  unit: HuntUnit;
  namespace: string;
  /** The unit's ServiceAccount as the API server names it: its writes are scanned. */
  user: string;
  kubeconfig: string;
  env: Record<string, string>;
  admin: Admin;
  kube: {
    auditMark(): Promise<number>;
    writesSince(
      mark: number,
      filter?: { user?: string },
    ): Promise<{ verb: string; resource: string; namespace: string; name: string }[]>;
  };
  /** Gives the unit's ServiceAccount what the hunted unit needs (its Secrets are renamed). */
  grant(unit: HuntUnit): Promise<void>;
  /** The kind's settings as the step parses them (defaults filled in: a default URL is an endpoint too). */
  settingsOf(unit: HuntUnit): unknown;
  hunt: HuntServer;
  workflowName: string;
  /** Secret values besides the canaries that must not come out (tokens the kind obtained, values it wrote). */
  moreSecrets?: () => Promise<string[]>;
  /** Directory of the step programs (default dist/). */
  programDir?: string;
}

export interface HuntResult {
  leaks: Leak[];
  /** Endpoints the runs never connected to: the hunt proved nothing about them. */
  unreached: string[];
  /** Objects written that the hunt cannot read to scan. */
  unscanned: string[];
  endpoints: string[];
  rounds: number;
}

export interface HuntServer {
  hostile: HostileServer;
  /** The CA of the hostile server's certificate. */
  caFile: string;
  dir: string;
}

/** The hostile server for a test file, over http and TLS (a certificate for 127.0.0.1 and *.reseed.test). */
export async function startHuntServer(dir: string): Promise<HuntServer> {
  await mkdir(dir, { recursive: true });
  const pki = await makePki(dir, { dnsNames: ["*.vault.reseed.test", "*.reseed.test"] });
  const hostile = await startHostileServer({
    tls: { cert: await readFile(pki.servingCert, "utf8"), key: await readFile(pki.servingKey, "utf8") },
  });
  return { hostile, caFile: pki.caCert, dir };
}

/** The step's CA bundle (NODE_EXTRA_CA_CERTS names one file) with the hostile server's CA added. */
async function caBundleFor(hunt: HuntServer, env: Record<string, string>, name: string): Promise<string> {
  const file = join(hunt.dir, `${name.replace(/[^a-z0-9]+/gi, "-")}.ca-bundle.pem`);
  const trusted = env.NODE_EXTRA_CA_CERTS ? [await readFile(env.NODE_EXTRA_CA_CERTS, "utf8")] : [];
  await writeFile(file, [await readFile(hunt.caFile, "utf8"), ...trusted].join("\n"));
  return file;
}

/** Credentials the steps read from files or the environment to authenticate: scanned for as well. */
async function tokensOf(spec: unknown, env: Record<string, string>): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const files: string[] = [];
  const walk = (v: unknown, key: string) => {
    if (typeof v === "string" && /^(tokenFile|bearerTokenFile)$/.test(key)) files.push(v);
    else if (v && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (key === "token" && typeof o.env === "string" && env[o.env]) out[`env ${o.env}`] = env[o.env]!;
      if (key === "token" && typeof o.file === "string") files.push(o.file);
      for (const [k, x] of Object.entries(o)) walk(x, k);
    }
  };
  walk(spec, "");
  for (const [k, v] of Object.entries(env)) if (k.endsWith("_TOKEN_FILE")) files.push(v);
  for (const f of files) {
    const text = (await readFile(f, "utf8").catch(() => "")).trim();
    if (text) out[`token file ${f}`] = text;
  }
  return out;
}

export async function huntLeaks(o: HuntOptions): Promise<HuntResult> {
  // Every secretKeyRef input reads a Secret of the hunt's own ("<namespace>/<name>" below),
  // filled with new canaries each round.
  const unit = structuredClone(o.unit);
  const secretKeys = new Map<string, string[]>();
  for (const [name, ref] of Object.entries(unit.spec.inputs)) {
    const r = ref as { secretKeyRef?: { name: string; key: string; namespace?: string } };
    if (!r.secretKeyRef) continue;
    const renamed = `${r.secretKeyRef.namespace ?? o.namespace}/hunt-${r.secretKeyRef.name}`.slice(0, 253);
    r.secretKeyRef = { ...r.secretKeyRef, name: renamed.split("/")[1]! };
    secretKeys.set(renamed, [...(secretKeys.get(renamed) ?? []), `${r.secretKeyRef.key}\u0000${name}`]);
  }
  // A dependency that never answers well fails wait-deps in a second, not in five minutes.
  unit.spec.waitTimeoutSeconds = 1;
  unit.spec.ensure = { ...(unit.spec.ensure as object), with: o.settingsOf(unit) };
  await o.grant(unit);

  const env = { ...o.env, NODE_EXTRA_CA_CERTS: await caBundleFor(o.hunt, o.env, o.workflowName) };
  const hostile = o.hunt.hostile;
  const secrets: Record<string, string> = await tokensOf(unit.spec, o.env);
  const endpoints = endpointsOf(unit.spec, o.env);
  const evidence: Evidence[] = [];
  const unreached: string[] = [];
  const unscanned: string[] = [];
  const all: StepName[] =
    unit.spec.pattern === "operator"
      ? ["validate-inputs", "wait-deps", "verify"]
      : ["validate-inputs", "wait-deps", "ensure-state", "verify"];
  // The phases that can reach an endpoint, from what each phase does (steps/runtime/phases.ts):
  // every phase but wait-deps resolves the inputs; wait-deps probes the dependencies, the
  // unit's and those a kind derives from its settings; ensure-state and verify talk to the
  // kind's servers; an endpoint from the environment (Entra) may serve any of them.
  // Running only those keeps the hunt to minutes.
  const phasesFor = (where: string): StepName[] =>
    where.startsWith("env ")
      ? all
      : where.startsWith("spec.inputs.")
        ? all.filter((p) => p !== "wait-deps")
        : where.startsWith("spec.dependencies.")
          ? ["wait-deps"]
          : all.filter((p) => p !== "validate-inputs");
  const auditMark = await o.kube.auditMark();
  let rounds = 0;

  const round = async (label: string, runUnit: HuntUnit, runEnv: Record<string, string>, phases: StepName[]) => {
    // New canaries every round, of a length that changes round by round (4 to 256).
    for (const [secretName, entries] of secretKeys) {
      const data: Record<string, string> = {};
      for (const entry of entries) {
        const [key, input] = entry.split("\u0000") as [string, string];
        const length = CANARY_LENGTHS[(rounds + Object.keys(secrets).length) % CANARY_LENGTHS.length]!;
        data[key] = canary(length, rounds);
        secrets[`canary ${input} (${length} chars, ${label})`] = data[key];
      }
      const [namespace, name] = secretName.split("/") as [string, string];
      await o.admin.putSecret(namespace, name, data);
    }
    rounds++;
    const runs = await Promise.all(
      phases.map((phase) =>
        runStepProcess(phase, runUnit, {
          kubeconfig: o.kubeconfig,
          namespace: o.namespace,
          env: runEnv,
          workflow: { name: o.workflowName, cronWorkflow: o.workflowName },
          ...(o.programDir ? { programDir: o.programDir } : {}),
        }),
      ),
    );
    for (const r of runs) {
      evidence.push(
        { where: `${label}: ${r.phase} stdout`, text: r.stdout },
        { where: `${label}: ${r.phase} stderr`, text: r.stderr },
      );
      for (const [file, text] of Object.entries(r.outputs))
        evidence.push({ where: `${label}: ${r.phase} output ${file}`, text });
      if (r.termination !== undefined)
        evidence.push({ where: `${label}: ${r.phase} termination message`, text: r.termination });
    }
  };

  if (endpoints.length === 0) await round("no network endpoint", unit, env, all);
  for (const endpoint of endpoints) {
    const before = hostile.connections;
    for (const mode of hostileModes) {
      hostile.mode = mode;
      const pointed = pointAt(unit.spec, env, endpoint, hostile);
      await round(
        `${endpoint.where} → hostile ${mode}`,
        { ...unit, spec: pointed.spec },
        pointed.env,
        phasesFor(endpoint.where),
      );
    }
    if (hostile.connections === before) unreached.push(endpoint.where);
  }

  // Everything the unit's ServiceAccount wrote in the namespace (Events are read whole below).
  const written = new Map<string, { resource: string; namespace: string; name: string }>();
  for (const w of await o.kube.writesSince(auditMark, { user: o.user })) {
    if (w.resource === "events" || w.verb === "delete") continue;
    written.set(`${w.resource} ${w.namespace}/${w.name}`, w);
  }
  for (const [label, w] of written) {
    if (w.resource === "configmaps") {
      const cm = await o.admin.core
        .readNamespacedConfigMap({ namespace: w.namespace, name: w.name })
        .catch(() => undefined);
      if (cm) evidence.push({ where: `ConfigMap ${w.namespace}/${w.name}`, text: JSON.stringify(cm) });
    } else if (w.resource === "secrets") {
      // A Secret's data is where secrets belong; its name, labels and annotations are not.
      const s = await o.admin.core
        .readNamespacedSecret({ namespace: w.namespace, name: w.name })
        .catch(() => undefined);
      if (s)
        evidence.push({
          where: `Secret ${w.namespace}/${w.name} metadata`,
          text: JSON.stringify({ metadata: s.metadata, keys: Object.keys(s.data ?? {}) }),
        });
    } else {
      unscanned.push(label);
    }
  }
  for (const note of await o.admin.eventNotes(o.namespace)) evidence.push({ where: "Event", text: note });

  for (const [i, v] of ((await o.moreSecrets?.()) ?? []).entries()) secrets[`written secret ${i + 1}`] = v;
  return {
    leaks: findLeaks(secrets, evidence),
    unreached,
    unscanned,
    endpoints: endpoints.map((e) => e.where),
    rounds,
  };
}
