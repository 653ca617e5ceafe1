import type { ZodType } from "zod";
import type { ImplicitInput } from "../inputs/implicit.js";
import type { Kube } from "./kube.js";
import type { Logger } from "./log.js";
import type { Redactor } from "./redact.js";
import type { Dependency, Pattern, SeedingUnit, InputValue } from "./spec.js";

/** Who owns the seeded state (seed/713, Definitions; backlog 462 taxonomy). */
export type Authority = "external-secret" | "cluster-managed" | "service-generated" | "application-db" | "runtime-fact";

export type Action = "created" | "updated" | "unchanged" | "none";

/** What one run did to one target of a fan-out unit, e.g. `{ target: "Secret ws-1/pull", action: "created" }`. */
export interface TargetResult {
  target: string;
  /** created | updated | unchanged, or what a fan-out does besides: pruned, kept, conflict… */
  action: string;
}

export interface Outcome {
  action: Action;
  /** Non-secret descriptions of what was written, e.g. "added key password". */
  changes: string[];
  /** Fan-out units only: every target and what this run did to it (the summary lists them). */
  targets?: TargetResult[];
}

/**
 * The counts the Event and the metrics carry: how many targets, and how many of them this
 * run created, updated or left unchanged. A single-target unit is one target.
 */
export function targetCounts(outcome: Outcome): Record<string, number> {
  const targets = outcome.targets ?? [{ target: "", action: outcome.action === "none" ? "unchanged" : outcome.action }];
  const counts: Record<string, number> = { targets: targets.length, created: 0, updated: 0, unchanged: 0 };
  for (const t of targets) counts[t.action] = (counts[t.action] ?? 0) + 1;
  return counts;
}

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/**
 * The namespace of a rule that holds in every namespace (a ClusterRole): what a fan-out
 * needs, since the namespaces it writes to are chosen by labels at run time.
 */
export const ALL_NAMESPACES = "*";

/** An RBAC rule the unit's service account needs, in one namespace or in ALL_NAMESPACES. */
export interface PolicyRule {
  namespace: string;
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** A declared input the kind's settings refer to, and whether it may be secret material. */
export interface InputUse {
  name: string;
  mustBe?: "secret" | "non-secret";
}

export interface ResolvedInputs {
  get(name: string): string | undefined;
  isSecret(name: string): boolean;
}

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
}

export interface UnitKind<Spec = unknown> {
  kind: string;
  authority: Authority;
  description: string;
  /** The patterns this kind can run under; operator-ready is P3 only, for instance. */
  patterns: readonly Pattern[];
  spec: ZodType<Spec>;
  inputs(spec: Spec): InputUse[];
  /** Auth material the kind's stores read from the pod; validate-inputs reports it with the declared inputs (C1). */
  implicitInputs?(spec: Spec): ImplicitInput[];
  dependencies(spec: Spec, namespace: string): Dependency[];
  permissions(spec: Spec, namespace: string): PolicyRule[];
  /** Idempotent: reads first and writes only what differs. */
  ensure(ctx: KindContext, spec: Spec): Promise<Outcome>;
  /** Read-only: does the desired state hold right now? */
  verify(ctx: KindContext, spec: Spec): Promise<Check[]>;
}

/**
 * Type-checks a kind against its own settings type, then erases that type so one registry
 * can hold every kind. Sound because loadUnit parses `with` through the kind's own schema
 * before any method sees it.
 */
export function defineKind<Spec>(kind: UnitKind<Spec>): UnitKind<unknown> {
  return kind as unknown as UnitKind<unknown>;
}
