import type { V1Secret } from "@kubernetes/client-node";
import * as z from "../core/zod.js";
import type { ObjectAccess } from "../core/access.js";
import { changedKeys } from "../core/changes.js";
import { decodeSecretData, encodeSecretData, isNotFound } from "../core/kube.js";
import { k8sName } from "../core/spec.js";
import { managedMetadata, type ManagedObject } from "../core/metadata.js";
import type { SecretStore, StoreProvider } from "./store.js";
import type { StoreContext } from "./context.js";

const location = z.strictObject({ name: k8sName, namespace: z.optional(k8sName) });
type Location = z.infer<typeof location>;
export const kubernetesSecretLocation = z.strictObject({ kubernetesSecret: location });

const SECRETS = { group: "", resource: "secrets" };

/** A Secret as read, and its values (already registered with the redactor). */
export interface ReadSecret {
  secret: V1Secret;
  data: Record<string, string>;
}

/** Reads a Secret a unit manages; undefined when it does not exist. */
export async function readManagedSecret(
  ctx: StoreContext,
  name: string,
  namespace: string,
): Promise<ReadSecret | undefined> {
  let secret: V1Secret;
  try {
    secret = await ctx.kube().core.readNamespacedSecret({ name, namespace });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
  const data = decodeSecretData(secret.data);
  for (const v of Object.values(data)) ctx.redactor.register(v);
  return { secret, data };
}

/**
 * Creates the Secret, or replaces the one read at its resourceVersion, so a concurrent
 * writer makes the run fail instead of one value silently overwriting another. Records the
 * write once the API server accepted it.
 */
export async function writeManagedSecret(
  ctx: StoreContext,
  opts: {
    target: ManagedObject | { name: string };
    namespace: string;
    current: V1Secret | undefined;
    data: Record<string, string>;
    extraAnnotations?: Record<string, string>;
  },
): Promise<V1Secret> {
  for (const v of Object.values(opts.data)) ctx.redactor.register(v);
  const meta = {
    unit: ctx.unit.metadata.name,
    target: opts.target,
    namespace: opts.namespace,
    ...(opts.extraAnnotations ? { extraAnnotations: opts.extraAnnotations } : {}),
  };
  const { core } = ctx.kube();
  const object = `Kubernetes Secret ${opts.namespace}/${opts.target.name}`;
  if (!opts.current) {
    const created = await core.createNamespacedSecret({
      namespace: opts.namespace,
      body: { metadata: managedMetadata(meta), type: "Opaque", data: encodeSecretData(opts.data) },
    });
    ctx.record({ verb: "created", object, keys: Object.keys(opts.data).sort() });
    return created;
  }
  const replaced = await core.replaceNamespacedSecret({
    name: opts.target.name,
    namespace: opts.namespace,
    body: {
      ...opts.current,
      metadata: managedMetadata({ ...meta, current: opts.current.metadata }),
      data: encodeSecretData(opts.data),
    },
  });
  const keys = changedKeys(decodeSecretData(opts.current.data), opts.data);
  ctx.record({ verb: "updated", object, keys, ...(keys.length ? {} : { note: "labels and annotations only" }) });
  return replaced;
}

/** A Secret's RBAC, relative to `{ name, namespace? }`: what any kind that names a Secret it writes or reads grants. */
export const kubernetesSecretAccess = (verbs: ObjectAccess["verbs"]): ObjectAccess[] => [
  { path: [], object: SECRETS, verbs },
];

const describe = (loc: Location, namespace: string) => `Kubernetes Secret ${loc.namespace ?? namespace}/${loc.name}`;

export const kubernetesSecretProvider: StoreProvider<"kubernetesSecret", Location> = {
  key: "kubernetesSecret",
  schema: location,
  open: (loc, ctx) => kubernetesSecretStore(loc, ctx),
  access: kubernetesSecretAccess,
  implicitInputs: () => [],
  dependencies: () => [],
  describe,
  keyNameProblem: (key) => (/^[-._a-zA-Z0-9]+$/.test(key) ? undefined : `"${key}" is not a Kubernetes Secret key`),
};

function kubernetesSecretStore(loc: Location, ctx: StoreContext): SecretStore {
  const namespace = loc.namespace ?? ctx.namespace;
  let lastRead: ReadSecret | undefined;
  return {
    describe: () => describe(loc, ctx.namespace),
    async read(keys) {
      lastRead = await readManagedSecret(ctx, loc.name, namespace);
      if (!lastRead) return undefined;
      const { data } = lastRead;
      return Object.fromEntries(keys.filter((k) => k in data).map((k) => [k, data[k]!]));
    },
    async list() {
      lastRead = await readManagedSecret(ctx, loc.name, namespace);
      return Object.keys(lastRead?.data ?? {}).sort();
    },
    // Writes against the Secret last read (with its resourceVersion).
    async write(values) {
      await this.writeMarked(values, { name: "", value: undefined, keys: [] });
    },
    marks(name, keys) {
      const recorded = lastRead?.secret.metadata?.annotations?.[`reseed.dev/${name}`];
      return Object.fromEntries(keys.map((k) => [k, recorded]));
    },
    async writeMarked(values, mark) {
      const data = { ...lastRead?.data, ...values };
      const extraAnnotations = mark.value !== undefined ? { [`reseed.dev/${mark.name}`]: mark.value } : undefined;
      const secret = await writeManagedSecret(ctx, {
        target: loc,
        namespace,
        current: lastRead?.secret,
        data,
        ...(extraAnnotations ? { extraAnnotations } : {}),
      });
      lastRead = { secret, data };
    },
    async remove(keys) {
      lastRead ??= await readManagedSecret(ctx, loc.name, namespace);
      if (!lastRead) return;
      const data = Object.fromEntries(Object.entries(lastRead.data).filter(([k]) => !keys.includes(k)));
      const secret = await ctx.kube().core.replaceNamespacedSecret({
        name: loc.name,
        namespace,
        body: { ...lastRead.secret, data: encodeSecretData(data) },
      });
      ctx.record({
        verb: "deleted",
        object: `Kubernetes Secret ${namespace}/${loc.name}`,
        keys: Object.keys(lastRead.data)
          .filter((k) => keys.includes(k))
          .sort(),
      });
      lastRead = { secret, data };
    },
  };
}
