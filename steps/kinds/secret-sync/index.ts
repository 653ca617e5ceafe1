import * as z from "../../core/zod.js";
import { ExitCode, SeedError, type Problem } from "../../core/errors.js";
import { defineKind, seedingPatterns, type Check, type KindContext, type EnsureReport } from "../kind.js";
import { labelSelector } from "../../core/selector.js";
import { k8sName } from "../../core/spec.js";
import { MIN_SECRET_LENGTH } from "../../core/redact.js";
import {
  describeLocation,
  keyNameProblem,
  keyVaultLocation,
  vaultLocation,
  type SecretLocation,
  openStore,
  readRecovering,
  secretLocation,
  storeAccess,
  storeDependencies,
  storeImplicitInputs,
  type SecretStore,
} from "../../stores/index.js";
import { applyStep, fanOutPermissions, readTargets, type FanOutLocation } from "./fan-out.js";
import { explicitPairs, planFanOut, planSync, prefixPairs, type Pair } from "./plan.js";

const keyName = z
  .string()
  .check(z.minLength(1), z.regex(/^[-._a-zA-Z0-9]+$/, "must be a key name (letters, digits, -, _, .)"));

// A destination is a store location, except that a Kubernetes Secret may name a
// namespaceSelector instead of a namespace: one source, the same Secret in every namespace
// that matches (a fan-out, docs/fan-out.md).
const destination = z.union([
  z.strictObject({
    kubernetesSecret: z
      .strictObject({
        name: k8sName,
        namespace: z.optional(k8sName),
        namespaceSelector: z
          .optional(labelSelector)
          .check(
            z.describe(
              "Fan-out: every namespace whose labels match gets the Secret, on every run, one created since the last run included.",
            ),
          ),
      })
      .check(
        z.refine((k) => !(k.namespace && k.namespaceSelector), {
          path: ["namespaceSelector"],
          message: "give namespace (one Secret) or namespaceSelector (a fan-out), not both",
        }),
      ),
  }),
  vaultLocation,
  keyVaultLocation,
]);

const settings = z
  .strictObject({
    from: secretLocation.check(z.describe("The authority the values come from: kubernetesSecret, vault or keyVault.")),
    to: destination.check(
      z.describe(
        "Where they are written: kubernetesSecret, vault or keyVault; or kubernetesSecret with a namespaceSelector instead of a namespace, to fan out.",
      ),
    ),
    keys: z
      .optional(z.array(z.union([keyName, z.strictObject({ from: keyName, to: keyName })])).check(z.minLength(1)))
      .check(
        z.describe(
          "The curated list: each source key, or {from, to} to rename it. Every listed key must exist at the source.",
        ),
      ),
    prefix: z
      .optional(
        z.strictObject({
          from: z.string(),
          to: z.optional(z.string()).check(z.describe("Defaults to the same prefix.")),
        }),
      )
      .check(z.describe("Every source key starting with `from`, renamed by swapping the prefix for `to`.")),
    drift: z
      .enum(["correct", "report"])
      .check(
        z.describe(
          "A destination value that differs from the source: `correct` overwrites it, `report` leaves it and fails verify naming it.",
        ),
      ),
    prune: z
      ._default(z.boolean(), false)
      .check(
        z.describe(
          "Prefix syncs: delete destination keys under the destination prefix that the source no longer has. Fan-out: also delete the Secret this unit wrote in a namespace that no longer matches. Nothing is ever deleted otherwise.",
        ),
      ),
  })
  .check(
    z.superRefine((s, ctx) => {
      if ((s.keys === undefined) === (s.prefix === undefined))
        ctx.addIssue({ code: "custom", path: [], message: "give exactly one of keys (a curated list) or prefix" });
      if (s.prune && !s.prefix && !fanOutOf(s.to))
        ctx.addIssue({
          code: "custom",
          path: ["prune"],
          message:
            "prune needs a prefix or a namespaceSelector: only keys under the destination prefix, or Secrets the fan-out labelled, can be known to be the unit's",
        });
      if (JSON.stringify(s.from) === JSON.stringify(s.to))
        ctx.addIssue({ code: "custom", path: ["to"], message: "is the same place as from" });
      if (s.keys) {
        const pairs = explicitPairs(s.keys);
        const seen = new Set<string>();
        pairs.forEach((p, i) => {
          if (seen.has(p.to))
            ctx.addIssue({ code: "custom", path: ["keys", i], message: `two keys are written to ${p.to}` });
          seen.add(p.to);
          const problem = keyNameProblem(destinationOf(s.to), p.to) ?? keyNameProblem(s.from, p.from);
          if (problem) ctx.addIssue({ code: "custom", path: ["keys", i], message: problem });
        });
      }
    }),
  );
type Settings = z.infer<typeof settings>;
type Destination = Settings["to"];

function fanOutOf(to: Destination): FanOutLocation | undefined {
  return "kubernetesSecret" in to && to.kubernetesSecret.namespaceSelector
    ? { name: to.kubernetesSecret.name, namespaceSelector: to.kubernetesSecret.namespaceSelector }
    : undefined;
}

/** The destination as a store location: for a fan-out, the Secret as any one namespace holds it (for key-name rules). */
function destinationOf(to: Destination): SecretLocation {
  if (!("kubernetesSecret" in to)) return to;
  const { name, namespace } = to.kubernetesSecret;
  return { kubernetesSecret: { name, ...(namespace ? { namespace } : {}) } };
}

interface Resolved {
  pairs: Pair[];
  source: Record<string, string>;
  problems: Problem[];
}

/** Which keys to sync and their source values; every missing or unusable source key is a problem, by name. */
async function readSource(store: SecretStore, s: Settings): Promise<Resolved> {
  const pairs = s.keys ? explicitPairs(s.keys) : prefixPairs(s.prefix!, await store.list());
  if (s.prefix && !pairs.length) {
    return {
      pairs,
      source: {},
      problems: [{ subject: store.describe(), message: `has no key starting with "${s.prefix.from}"` }],
    };
  }
  const source = (await store.read(pairs.map((p) => p.from))) ?? {};
  const problems: Problem[] = [];
  for (const p of pairs) {
    const v = source[p.from];
    if (v === undefined) problems.push({ subject: p.from, message: `is missing in ${store.describe()}` });
    else if (v.length < MIN_SECRET_LENGTH)
      problems.push({
        subject: p.from,
        message: `in ${store.describe()} is shorter than ${MIN_SECRET_LENGTH} characters: too short to be masked in logs`,
      });
    else {
      const invalid = keyNameProblem(destinationOf(s.to), p.to);
      if (invalid) problems.push({ subject: p.from, message: `cannot be written: ${invalid}` });
    }
  }
  return { pairs, source, problems };
}

const prunable = async (store: SecretStore, s: Settings) =>
  s.prune && s.prefix ? (await store.list()).filter((k) => k.startsWith(s.prefix!.to ?? s.prefix!.from)) : [];

export const secretSync = defineKind<Settings>({
  kind: "secret-sync",
  authority: "external-secret",
  description:
    "Copies a curated set of secrets from one authority to another (Key Vault, Vault, Kubernetes Secret), writing only what differs.",
  patterns: seedingPatterns,
  spec: settings,
  inputs: [],
  implicitInputs: (s) => [...storeImplicitInputs(s.from), ...storeImplicitInputs(destinationOf(s.to))],
  dependencies: (s) => [...storeDependencies(s.from), ...storeDependencies(destinationOf(s.to))],
  // A fan-out's `to.kubernetesSecret` has a namespaceSelector: accessRules leaves it to clusterAccess.
  access: [...storeAccess(["from"], "read"), ...storeAccess(["to"], "write")],
  clusterAccess: (s) => {
    const fanOut = fanOutOf(s.to);
    return fanOut ? fanOutPermissions(fanOut, s.prune) : [];
  },

  async ensure(ctx: KindContext, s) {
    const from = openStore(s.from, ctx);
    const { pairs, source, problems } = await readSource(from, s);
    // All or nothing: a run that cannot copy every key copies none (no partial silent success),
    // in no target of a fan-out either.
    if (problems.length) {
      throw new SeedError(
        ExitCode.missingInput,
        `${problems.length} source key${problems.length === 1 ? "" : "s"} missing or unusable; nothing was written`,
        `fix the keys at ${describeLocation(s.from, ctx.namespace)} or the unit's key list`,
        problems,
      );
    }
    const fanOut = fanOutOf(s.to);
    if (fanOut) return ensureFanOut(ctx, s, fanOut, pairs, source);
    const to = openStore(destinationOf(s.to), ctx);
    // A destination key soft-deleted (by a prune, or by hand) blocks its name until it is
    // recovered: recover it, then compare like any other key.
    const { current, recovered } = await readRecovering(
      to,
      pairs.map((p) => p.to),
    );
    const plan = planSync({
      pairs,
      source,
      destination: current ?? {},
      recovered,
      drift: s.drift,
      prunable: await prunable(to, s),
    });
    for (const key of plan.drifted)
      ctx.log.warn(
        { event: "drift.reported", key, destination: to.describe() },
        `${key} differs from the source; drift: report leaves it as it is`,
      );
    if (plan.changes.length)
      ctx.log.info(
        { event: "ensure.plan", target: to.describe(), plan: plan.changes },
        `plan for ${to.describe()}: ${plan.changes.join("; ")}`,
      );
    // The store records each write (and the recoveries above) as it is made.
    if (Object.keys(plan.write).length) await to.write(plan.write);
    if (plan.remove.length) await to.remove(plan.remove);
  },

  async verify(ctx, s) {
    const from = openStore(s.from, ctx);
    const { pairs, source, problems } = await readSource(from, s);
    const checks: Check[] = problems.map((p) => ({ name: `source ${p.subject}`, ok: false, detail: p.message }));
    const fanOut = fanOutOf(s.to);
    if (fanOut) return [...checks, ...(await verifyFanOut(ctx, s, fanOut, pairs, source))];
    const to = openStore(destinationOf(s.to), ctx);
    const current = (await to.read(pairs.map((p) => p.to))) ?? {};
    const bad = pairs.filter((p) => source[p.from] !== undefined && current[p.to] !== source[p.from]);
    for (const p of bad) {
      checks.push({
        name: `${to.describe()} ${p.to}`,
        ok: false,
        detail:
          current[p.to] === undefined
            ? "is missing"
            : s.drift === "report"
              ? "differs from the source (drift: report leaves it; fix it there or set drift: correct)"
              : "differs from the source",
      });
    }
    const leftovers = (await prunable(to, s)).filter((k) => !pairs.some((p) => p.to === k));
    for (const k of leftovers)
      checks.push({
        name: `${to.describe()} ${k}`,
        ok: false,
        detail: "is no longer in the source and should have been pruned",
      });
    const synced = pairs.filter((p) => source[p.from] !== undefined && current[p.to] === source[p.from]).length;
    checks.unshift({
      name: `${to.describe()} in sync with ${from.describe()}`,
      ok: synced === pairs.length && !leftovers.length,
      detail: `${synced} of ${pairs.length} keys equal`,
    });
    return checks;
  },
});

const sourceNamespaceOf = (s: Settings, fanOut: FanOutLocation, namespace: string) =>
  "kubernetesSecret" in s.from && s.from.kubernetesSecret.name === fanOut.name
    ? (s.from.kubernetesSecret.namespace ?? namespace)
    : undefined;

async function planTargets(
  ctx: KindContext,
  s: Settings,
  fanOut: FanOutLocation,
  pairs: Pair[],
  source: Record<string, string>,
) {
  const read = await readTargets(ctx, fanOut);
  const steps = planFanOut({
    pairs,
    source,
    targets: read.targets,
    drift: s.drift,
    prune: s.prune,
    prunePrefix: s.prefix ? (s.prefix.to ?? s.prefix.from) : undefined,
    sourceNamespace: sourceNamespaceOf(s, fanOut, ctx.namespace),
  });
  return { read, steps };
}

/**
 * Every target is planned before the first write, so a source problem (above) or a read
 * failure leaves every namespace as it was. A conflict (a Secret of that name this unit did
 * not write) spoils only its own namespace: the others are written, then the run fails naming it.
 */
async function ensureFanOut(
  ctx: KindContext,
  s: Settings,
  fanOut: FanOutLocation,
  pairs: Pair[],
  source: Record<string, string>,
): Promise<EnsureReport> {
  const { read, steps } = await planTargets(ctx, s, fanOut, pairs, source);
  const describe = (ns: string) => `Secret ${ns}/${fanOut.name}`;
  for (const step of steps) {
    for (const key of step.drifted)
      ctx.log.warn(
        { event: "drift.reported", key, destination: describe(step.namespace) },
        `${key} differs from the source; drift: report leaves it as it is`,
      );
    await applyStep(ctx, fanOut, step, read.secrets.get(step.namespace));
  }
  const conflicts = steps.filter((t) => t.action === "conflict");
  if (conflicts.length) {
    throw new SeedError(
      ExitCode.ensureFailed,
      `${conflicts.length} of ${steps.length} namespaces hold a Secret ${fanOut.name} this unit did not write; every other target was written`,
      `delete that Secret, or rename the unit's Secret; reseed never overwrites a Secret it did not write`,
      conflicts.map((t) => ({ subject: describe(t.namespace), message: t.changes[0]! })),
    );
  }
  // Each write was recorded as it was made (writeManagedSecret, the prune's delete); the action follows from those.
  return { targets: steps.map((t) => ({ target: describe(t.namespace), action: t.action })) };
}

async function verifyFanOut(
  ctx: KindContext,
  s: Settings,
  fanOut: FanOutLocation,
  pairs: Pair[],
  source: Record<string, string>,
): Promise<Check[]> {
  const { read, steps } = await planTargets(ctx, s, fanOut, pairs, source);
  const matching = read.targets.filter((t) => t.matches).length;
  const bad = steps.filter(
    (t) => !["unchanged", "kept", "skipped"].includes(t.action) || (t.action === "unchanged" && t.drifted.length),
  );
  return [
    {
      name: `Secret ${fanOut.name} in every namespace matching the selector`,
      ok: !bad.length,
      detail: `${matching - bad.filter((t) => t.action !== "pruned").length} of ${matching} matching namespaces in sync`,
    },
    ...bad.map((t) => ({
      name: `Secret ${t.namespace}/${fanOut.name}`,
      ok: false,
      detail:
        t.action === "created"
          ? "is missing"
          : t.action === "pruned"
            ? "is in a namespace that no longer matches and should have been pruned"
            : t.action === "conflict"
              ? t.changes[0]!
              : t.drifted.length
                ? `differs from the source in ${t.drifted.join(", ")}`
                : "differs from the source",
    })),
  ];
}
