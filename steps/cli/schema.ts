import { z } from "zod";
import { seedingUnit } from "../core/spec.js";
import { chartValues } from "../core/values.js";
import type { KindRegistry } from "../core/unit.js";
import type { UnitKind } from "../core/kind.js";

/**
 * JSON Schema for units or for the chart's values. Each kind's settings schema is attached
 * under `ensure` as a conditional on `ensure.kind`, so editors and Helm reject a wrong
 * `with` block too, not just a wrong envelope.
 */
export function jsonSchema(target: "unit" | "values", kinds: UnitKind<unknown>[]): Record<string, unknown> {
  const base = z.toJSONSchema(target === "unit" ? seedingUnit : chartValues, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  const ensure = findEnsure(base, target);
  if (ensure) {
    ensure.allOf = kinds.map((k) => ({
      if: { properties: { kind: { const: k.kind } }, required: ["kind"] },
      then: { properties: { with: stripMeta(z.toJSONSchema(k.spec, { io: "input", unrepresentable: "any" }) as Record<string, unknown>) } },
    }));
    const kindProp = (ensure.properties as Record<string, Record<string, unknown>>).kind;
    if (kindProp) kindProp.enum = kinds.map((k) => k.kind);
  }
  return base;
}

function stripMeta(s: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = s;
  return rest;
}

function findEnsure(schema: Record<string, unknown>, target: "unit" | "values"): Record<string, unknown> | undefined {
  type Obj = { properties?: Record<string, Obj>; additionalProperties?: Obj } & Record<string, unknown>;
  const root = schema as Obj;
  const unitSpec = target === "unit" ? root.properties?.spec : root.properties?.units?.additionalProperties;
  return unitSpec?.properties?.ensure;
}

export function registryKinds(registry: KindRegistry): UnitKind<unknown>[] {
  return registry.names().map((n) => registry.get(n)!);
}
