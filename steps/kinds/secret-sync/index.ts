import { z } from "zod";
import { ExitCode, SeedError, type Problem } from "../../core/errors.js";
import { defineKind, type Check, type KindContext } from "../kind.js";
import { MIN_SECRET_LENGTH } from "../../core/redact.js";
import { describeLocation, keyNameProblem, openStore, readRecovering, secretLocation, storeDependencies, storeAccess, storeImplicitInputs, type SecretStore } from "../../stores/index.js";
import { explicitPairs, planSync, prefixPairs, type Pair } from "./plan.js";

const keyName = z.string().min(1).regex(/^[-._a-zA-Z0-9]+$/, "must be a key name (letters, digits, -, _, .)");

const settings = z
  .strictObject({
    from: secretLocation.describe("The authority the values come from: kubernetesSecret, vault or keyVault."),
    to: secretLocation.describe("Where they are written: kubernetesSecret, vault or keyVault."),
    keys: z
      .array(z.union([keyName, z.strictObject({ from: keyName, to: keyName })]))
      .min(1)
      .optional()
      .describe("The curated list: each source key, or {from, to} to rename it. Every listed key must exist at the source."),
    prefix: z
      .strictObject({ from: z.string(), to: z.string().optional().describe("Defaults to the same prefix.") })
      .optional()
      .describe("Every source key starting with `from`, renamed by swapping the prefix for `to`."),
    drift: z
      .enum(["correct", "report"])
      .describe("A destination value that differs from the source: `correct` overwrites it, `report` leaves it and fails verify naming it."),
    prune: z
      .boolean()
      .default(false)
      .describe("Prefix syncs only: delete destination keys under the destination prefix that the source no longer has. Nothing is ever deleted otherwise."),
  })
  .superRefine((s, ctx) => {
    if ((s.keys === undefined) === (s.prefix === undefined)) ctx.addIssue({ code: "custom", path: [], message: "give exactly one of keys (a curated list) or prefix" });
    if (s.prune && !s.prefix) ctx.addIssue({ code: "custom", path: ["prune"], message: "prune needs a prefix: only keys under the destination prefix can be known to be the unit's" });
    if (JSON.stringify(s.from) === JSON.stringify(s.to)) ctx.addIssue({ code: "custom", path: ["to"], message: "is the same place as from" });
    if (s.keys) {
      const pairs = explicitPairs(s.keys);
      const seen = new Set<string>();
      pairs.forEach((p, i) => {
        if (seen.has(p.to)) ctx.addIssue({ code: "custom", path: ["keys", i], message: `two keys are written to ${p.to}` });
        seen.add(p.to);
        const problem = keyNameProblem(s.to, p.to) ?? keyNameProblem(s.from, p.from);
        if (problem) ctx.addIssue({ code: "custom", path: ["keys", i], message: problem });
      });
    }
  });
type Settings = z.infer<typeof settings>;

interface Resolved {
  pairs: Pair[];
  source: Record<string, string>;
  problems: Problem[];
}

/** Which keys to sync and their source values; every missing or unusable source key is a problem, by name. */
async function readSource(store: SecretStore, s: Settings): Promise<Resolved> {
  const pairs = s.keys ? explicitPairs(s.keys) : prefixPairs(s.prefix!, await store.list());
  if (s.prefix && !pairs.length) {
    return { pairs, source: {}, problems: [{ subject: store.describe(), message: `has no key starting with "${s.prefix.from}"` }] };
  }
  const source = (await store.read(pairs.map((p) => p.from))) ?? {};
  const problems: Problem[] = [];
  for (const p of pairs) {
    const v = source[p.from];
    if (v === undefined) problems.push({ subject: p.from, message: `is missing in ${store.describe()}` });
    else if (v.length < MIN_SECRET_LENGTH) problems.push({ subject: p.from, message: `in ${store.describe()} is shorter than ${MIN_SECRET_LENGTH} characters: too short to be masked in logs` });
    else {
      const invalid = keyNameProblem(s.to, p.to);
      if (invalid) problems.push({ subject: p.from, message: `cannot be written: ${invalid}` });
    }
  }
  return { pairs, source, problems };
}

const prunable = async (store: SecretStore, s: Settings) => (s.prune && s.prefix ? (await store.list()).filter((k) => k.startsWith(s.prefix!.to ?? s.prefix!.from)) : []);

export const secretSync = defineKind<Settings>({
  kind: "secret-sync",
  authority: "external-secret",
  description: "Copies a curated set of secrets from one authority to another (Key Vault, Vault, Kubernetes Secret), writing only what differs.",
  patterns: ["reconciler", "hook"],
  spec: settings,
  inputs: [],
  implicitInputs: (s) => [...storeImplicitInputs(s.from), ...storeImplicitInputs(s.to)],
  dependencies: (s) => [...storeDependencies(s.from), ...storeDependencies(s.to)],
  access: [...storeAccess(["from"], "read"), ...storeAccess(["to"], "write")],

  async ensure(ctx: KindContext, s) {
    const from = openStore(s.from, ctx);
    const to = openStore(s.to, ctx);
    const { pairs, source, problems } = await readSource(from, s);
    // All or nothing: a run that cannot copy every key copies none (no partial silent success).
    if (problems.length) {
      throw new SeedError(ExitCode.missingInput, `${problems.length} source key${problems.length === 1 ? "" : "s"} missing or unusable; nothing was written`, `fix the keys at ${describeLocation(s.from, ctx.namespace)} or the unit's key list`, problems);
    }
    // A destination key soft-deleted (by a prune, or by hand) blocks its name until it is
    // recovered: recover it, then compare like any other key.
    const { current, recovered } = await readRecovering(to, pairs.map((p) => p.to));
    const plan = planSync({ pairs, source, destination: current ?? {}, recovered, drift: s.drift, prunable: await prunable(to, s) });
    for (const key of plan.drifted) ctx.log.warn({ event: "drift.reported", key, destination: to.describe() }, `${key} differs from the source; drift: report leaves it as it is`);
    if (Object.keys(plan.write).length) await to.write(plan.write);
    if (plan.remove.length) await to.remove(plan.remove);
    if (!plan.changes.length) return { action: "unchanged", changes: [] };
    // "created": the destination held none of the keys, as after a reset; otherwise "updated".
    return { action: Object.keys(current ?? {}).length === recovered.length ? "created" : "updated", changes: plan.changes.map((c) => `${c} in ${to.describe()}`) };
  },

  async verify(ctx, s) {
    const from = openStore(s.from, ctx);
    const to = openStore(s.to, ctx);
    const { pairs, source, problems } = await readSource(from, s);
    const checks: Check[] = problems.map((p) => ({ name: `source ${p.subject}`, ok: false, detail: p.message }));
    const current = (await to.read(pairs.map((p) => p.to))) ?? {};
    const bad = pairs.filter((p) => source[p.from] !== undefined && current[p.to] !== source[p.from]);
    for (const p of bad) {
      checks.push({
        name: `${to.describe()} ${p.to}`,
        ok: false,
        detail: current[p.to] === undefined ? "is missing" : s.drift === "report" ? "differs from the source (drift: report leaves it; fix it there or set drift: correct)" : "differs from the source",
      });
    }
    const leftovers = (await prunable(to, s)).filter((k) => !pairs.some((p) => p.to === k));
    for (const k of leftovers) checks.push({ name: `${to.describe()} ${k}`, ok: false, detail: "is no longer in the source and should have been pruned" });
    const synced = pairs.filter((p) => source[p.from] !== undefined && current[p.to] === source[p.from]).length;
    checks.unshift({ name: `${to.describe()} in sync with ${from.describe()}`, ok: synced === pairs.length && !leftovers.length, detail: `${synced} of ${pairs.length} keys equal` });
    return checks;
  },
});
