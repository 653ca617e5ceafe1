import type { ZodType } from "zod";
import type { ImplicitInput } from "../inputs/implicit.js";
import type { ResolvedInputs } from "../inputs/source.js";
import type { Outcome } from "../core/outcome.js";
import type { InputAccess, ObjectAccess } from "../core/access.js";
import type { Kube } from "../core/kube.js";
import type { Logger } from "../core/log.js";
import type { Redactor } from "../core/redact.js";
import type { Dependency, Pattern, SeedingUnit, InputValue } from "../core/spec.js";

/** Who owns the seeded state (seed/713, Definitions; backlog 462 taxonomy). */
export type Authority = "external-secret" | "cluster-managed" | "service-generated" | "application-db" | "runtime-fact";

export type { Action, Outcome } from "../core/outcome.js";

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
}

export interface UnitKind<Spec = unknown> {
  kind: string;
  authority: Authority;
  description: string;
  /** The patterns this kind can run under; operator-ready is P3 only, for instance. */
  patterns: readonly Pattern[];
  spec: ZodType<Spec>;
  /** Where `with` names inputs, and which must be secret (lint, validate-inputs and the chart check it). */
  inputs: readonly InputAccess[];
  /** Auth material the kind's stores read from the pod; validate-inputs reports it with the declared inputs (C1). */
  implicitInputs?(spec: Spec): ImplicitInput[];
  dependencies(spec: Spec, namespace: string): Dependency[];
  /** Where `with` names Kubernetes objects the kind reads or writes: the unit's Role (chart and steps) comes from it. */
  access: readonly ObjectAccess[];
  /** Idempotent: reads first and writes only what differs. */
  ensure(ctx: KindContext, spec: Spec): Promise<Outcome>;
  /** Read-only: does the desired state hold right now? */
  verify(ctx: KindContext, spec: Spec): Promise<Check[]>;
}

/** Every kind the steps and the CLI know, by name. */
export interface KindRegistry {
  get(kind: string): UnitKind<unknown> | undefined;
  names(): string[];
}

/**
 * Type-checks a kind against its own settings type, then erases that type so one registry
 * can hold every kind. Sound because loadUnit parses `with` through the kind's own schema
 * before any method sees it.
 */
export function defineKind<Spec>(kind: UnitKind<Spec>): UnitKind<unknown> {
  return kind as unknown as UnitKind<unknown>;
}
