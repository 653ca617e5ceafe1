import type { ZodType } from "zod";
import type { ImplicitInput } from "../inputs/implicit.js";
import type { RecordChange } from "./changes.js";
import type { Kube } from "./kube.js";
import type { Logger } from "./log.js";
import type { Redactor } from "./redact.js";
import type { Dependency, Pattern, SeedingUnit, InputValue } from "./spec.js";

/** Who owns the seeded state (seed/713, Definitions; backlog 462 taxonomy). */
export type Authority = "external-secret" | "cluster-managed" | "service-generated" | "application-db" | "runtime-fact";

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** A namespaced RBAC rule the unit's service account needs. */
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
  spec: ZodType<Spec>;
  inputs(spec: Spec): InputUse[];
  /** Auth material the kind's stores read from the pod; validate-inputs reports it with the declared inputs (C1). */
  implicitInputs?(spec: Spec): ImplicitInput[];
  dependencies(spec: Spec, namespace: string): Dependency[];
  permissions(spec: Spec, namespace: string): PolicyRule[];
  /** Idempotent: reads first and writes only what differs, recording each write (ctx.record). */
  ensure(ctx: KindContext, spec: Spec): Promise<void>;
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
