import type { ZodMiniType } from "../core/zod.js";
import type { ImplicitInput } from "../inputs/implicit.js";
import type { ResolvedInputs } from "../inputs/source.js";
import type { RecordChange } from "../core/changes.js";
import type { EnsureReport } from "../core/outcome.js";
import type { InputAccess, ObjectAccess, PolicyRule } from "../core/access.js";
import type { Kube } from "../core/kube.js";
import type { Logger } from "../core/log.js";
import type { Redactor } from "../core/redact.js";
import type { Dependency, Pattern, SeedingUnit, InputValue } from "../core/spec.js";

/**
 * Who owns the seeded state, and so where the truth is read from: an external secret store,
 * the cluster (Kubernetes or an operator), the service that generated it, the application's
 * database, or facts the infrastructure publishes.
 */
export type Authority = "external-secret" | "cluster-managed" | "service-generated" | "application-db" | "runtime-fact";

/**
 * The patterns of a kind that seeds state and can do so both ways: on a schedule (P1) and
 * once per runId (P2). The rest are verify-only (P3, operator) and extraction (P4).
 */
export const seedingPatterns: readonly Pattern[] = ["reconciler", "hook"];

export type { EnsureReport, TargetResult } from "../core/outcome.js";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export type { InputUse, PolicyRule } from "../core/access.js";

export interface KindContext {
  unit: SeedingUnit;
  namespace: string;
  inputs: ResolvedInputs;
  kube(): Kube;
  log: Logger;
  redactor: Redactor;
  /** The step's environment: where auth material (VAULT_TOKEN, AZURE_*) is read at use. */
  env: NodeJS.ProcessEnv;
  /** A `with` value: a literal, or the resolved value of the input it names. */
  value(v: InputValue): string;
  /**
   * Records a write the moment it succeeded (the stores and their clients do it for every
   * write they make; a kind that writes through a client of its own calls it). The step's
   * result and its evidence come from these records, on success and on failure alike.
   */
  record: RecordChange;
}

export interface UnitKind<Spec = unknown> {
  kind: string;
  authority: Authority;
  description: string;
  /** The patterns this kind can run under; operator-ready is P3 only, for instance. */
  patterns: readonly Pattern[];
  spec: ZodMiniType<Spec>;
  /** Where `with` names inputs, and which must be secret (lint, validate-inputs and the chart check it). */
  inputs: readonly InputAccess[];
  /** Auth material the kind's stores read from the pod; validate-inputs reports it with the declared inputs (C1). */
  implicitInputs?(spec: Spec): ImplicitInput[];
  dependencies(spec: Spec, namespace: string): Dependency[];
  /** Where `with` names Kubernetes objects the kind reads or writes: the unit's Role (chart and steps) comes from it. */
  access: readonly ObjectAccess[];
  /**
   * Fan-out only: rules in ALL_NAMESPACES (a ClusterRole). Its targets are chosen by labels at
   * run time, so no `with` path can name them (docs/fan-out.md).
   */
  clusterAccess?(spec: Spec): PolicyRule[];
  /**
   * Idempotent: reads first and writes only what differs, recording each write (ctx.record).
   * A fan-out returns what it did to each target; others return nothing.
   */
  ensure(ctx: KindContext, spec: Spec): Promise<EnsureReport | void>;
  /** Read-only: does the desired state hold right now? */
  verify(ctx: KindContext, spec: Spec): Promise<Check[]>;
}

/** Kinds already loaded, by name: what checking a unit (loadUnit) reads. */
export interface KindRegistry {
  get(kind: string): UnitKind<unknown> | undefined;
  names(): string[];
}

/**
 * Every kind the steps and the CLI know, by name, each loaded on first use: a step's process
 * loads only its unit's kind (a step starts sooner and uses less memory), the CLI loads them all.
 */
export interface KindCatalog {
  names(): string[];
  load(kind: string): Promise<UnitKind<unknown> | undefined>;
}

/** The catalog of the generated registry (steps/kinds/registry.ts): kind name → its module's loader. */
export function kindCatalog(loaders: Record<string, () => Promise<UnitKind<unknown>>>): KindCatalog {
  return {
    names: () => Object.keys(loaders),
    load: async (name) => {
      if (!Object.hasOwn(loaders, name)) return undefined;
      const kind = await loaders[name]!();
      if (kind.kind !== name)
        throw new Error(`steps/kinds/${name}/ exports kind "${kind.kind}": a kind is named by its folder`);
      return kind;
    },
  };
}

/**
 * The kinds `only` names (all of them by default), loaded: a registry that knows every name,
 * so an unknown kind is still reported with the list of known ones.
 */
export async function loadKinds(
  catalog: KindCatalog,
  only: readonly string[] = catalog.names(),
): Promise<KindRegistry> {
  const loaded = (await Promise.all(only.map((n) => catalog.load(n)))).filter((k) => k !== undefined);
  return { get: (name) => loaded.find((k) => k.kind === name), names: () => catalog.names() };
}

/**
 * Type-checks a kind against its own settings type, then erases that type so one registry
 * can hold every kind. Sound because loadUnit parses `with` through the kind's own schema
 * before any method sees it.
 */
export function defineKind<Spec>(kind: UnitKind<Spec>): UnitKind<unknown> {
  return kind as unknown as UnitKind<unknown>;
}
