/**
 * What a kind touches, as data: which paths of its `with` block name Kubernetes objects it
 * reads or writes, and which name inputs (and whether those must be secret). Data, not code,
 * because two programs read it: the steps (the unit's Role in tests, lint and validate-inputs) and the chart,
 * whose RBAC and secret-input checks are generated from it (`reseed schema chart-kinds`,
 * charts/reseed/templates/_kinds.tpl). Both walk a path the same way: a name steps into an
 * object, "*" into every element of a list or every value of a map, and a missing step
 * yields nothing (an optional block that is absent needs no access).
 */

export type Path = readonly string[];

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

/**
 * Access to the objects found at `path`. With `object`, each is `{ name, namespace? }` of that
 * group and resource; with "reference", each is a full reference
 * `{ apiVersion, kind, resource?, name, namespace? }`, read only. read is get by name; write is get,
 * update and patch by name, and create (which RBAC cannot limit by name).
 */
export type ObjectAccess =
  | { path: Path; object: { group: string; resource: string }; verbs: "read" | "write" }
  | { path: Path; object: "reference"; verbs: "read" };

/** An input named at `path` (`{ input: name }`; a literal string there names none). */
export interface InputAccess {
  path: Path;
  mustBe?: "secret" | "non-secret";
}

/** A declared input the kind's settings refer to, and whether it may be secret material. */
export interface InputUse {
  name: string;
  mustBe?: "secret" | "non-secret";
}

/** Everything found at `path` in `value`. */
export function walk(value: unknown, path: Path): unknown[] {
  if (!path.length) return value === undefined || value === null ? [] : [value];
  const [step, ...rest] = path;
  if (value === null || typeof value !== "object") return [];
  if (step === "*") return Object.values(value).flatMap((v) => walk(v, rest));
  return walk((value as Record<string, unknown>)[step!], rest);
}

/**
 * The resource name for RBAC: the reference's own `resource`, or the kind's plural as the
 * Kubernetes code generators form it (Ingress → ingresses, NetworkPolicy → networkpolicies).
 * A custom resource whose CRD declares some other plural must name it in `resource`.
 * The chart's `reseed.plural` applies the same rule.
 */
export function pluralOf(r: { kind: string; resource?: string | undefined }): string {
  if (r.resource) return r.resource;
  const kind = r.kind.toLowerCase();
  if (kind === "endpoints") return kind;
  if (/(s|x|z|ch|sh)$/.test(kind)) return `${kind}es`;
  if (/[^aeiou]y$/.test(kind)) return `${kind.slice(0, -1)}ies`;
  return `${kind}s`;
}

export function apiGroupOf(apiVersion: string): string {
  return apiVersion.includes("/") ? apiVersion.split("/")[0]! : "";
}

interface Named {
  name: string;
  namespace?: string;
  apiVersion?: string;
  kind?: string;
  resource?: string;
}

/** The RBAC rules `access` grants for these settings; objects without a namespace are in `namespace`. */
export function accessRules(access: readonly ObjectAccess[], settings: unknown, namespace: string): PolicyRule[] {
  return access.flatMap((a) =>
    walk(settings, a.path).flatMap((found): PolicyRule[] => {
      const o = found as Named & { namespaceSelector?: unknown };
      // A fan-out target (a namespaceSelector instead of a namespace): its kind's clusterAccess.
      if (o.namespaceSelector !== undefined) return [];
      const ns = o.namespace ?? namespace;
      const [group, resource] =
        a.object === "reference"
          ? [apiGroupOf(o.apiVersion!), pluralOf({ kind: o.kind!, resource: o.resource })]
          : [a.object.group, a.object.resource];
      const base = { namespace: ns, apiGroups: [group], resources: [resource] };
      if (a.verbs === "read") return [{ ...base, verbs: ["get"], resourceNames: [o.name] }];
      return [
        { ...base, verbs: ["get", "update", "patch"], resourceNames: [o.name] },
        { ...base, verbs: ["create"] },
      ];
    }),
  );
}

/** The inputs the settings name at the declared paths. */
export function inputUses(inputs: readonly InputAccess[], settings: unknown): InputUse[] {
  return inputs.flatMap((i) =>
    walk(settings, i.path).flatMap((v): InputUse[] =>
      v && typeof v === "object" && typeof (v as { input?: unknown }).input === "string"
        ? [{ name: (v as { input: string }).input, ...(i.mustBe ? { mustBe: i.mustBe } : {}) }]
        : [],
    ),
  );
}

/** The same access, found one level deeper: how a kind reuses a store's declaration under its own `with` path. */
export function under<T extends { path: Path }>(prefix: Path, access: readonly T[]): T[] {
  return access.map((a) => ({ ...a, path: [...prefix, ...a.path] }));
}
