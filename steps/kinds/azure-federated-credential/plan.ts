// The pure decision of azure-federated-credential: the credential is upserted when it is
// missing or its issuer, subject or audiences drifted; otherwise nothing is written.

export interface Credential {
  issuer: string;
  subject: string;
  audiences: string[];
}

export type CredentialPlan = { write: false } | { write: true; action: "created" | "updated"; changes: string[] };

export const subjectOf = (namespace: string, serviceAccount: string) =>
  `system:serviceaccount:${namespace}:${serviceAccount}`;

const sameSet = (a: string[], b: string[]) =>
  a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);

export function planCredential(name: string, want: Credential, have: Partial<Credential> | undefined): CredentialPlan {
  if (!have)
    return {
      write: true,
      action: "created",
      changes: [`created federated credential ${name} for ${want.subject} from ${want.issuer}`],
    };
  const changes: string[] = [];
  if (have.issuer !== want.issuer) changes.push(`issuer ${have.issuer ?? "unset"} -> ${want.issuer}`);
  if (have.subject !== want.subject) changes.push(`subject ${have.subject ?? "unset"} -> ${want.subject}`);
  if (!sameSet(have.audiences ?? [], want.audiences))
    changes.push(`audiences ${(have.audiences ?? []).join(",") || "unset"} -> ${want.audiences.join(",")}`);
  if (!changes.length) return { write: false };
  return { write: true, action: "updated", changes: changes.map((c) => `federated credential ${name}: ${c}`) };
}

// --- fan-out: one credential per ServiceAccount a selector matches ----------------------------

/** Azure's documented limit: a user-assigned identity holds at most 20 federated credentials. */
export const MAX_CREDENTIALS_PER_IDENTITY = 20;

/** Azure's rule for a federated identity credential name. */
export const CREDENTIAL_NAME = /^[a-zA-Z0-9][a-zA-Z0-9-_]{2,119}$/;

/** A prefix leaves room for a namespace, a ServiceAccount name and a hash within the 120 characters. */
export const NAME_PREFIX = /^[a-zA-Z0-9][a-zA-Z0-9-_]{0,39}$/;

const fnv1a = (s: string) => {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(s, "utf8")) h = Math.imul(h ^ c, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
};

/**
 * The credential's name for a ServiceAccount: `<prefix><namespace>_<name>`, readable and
 * unique (neither a namespace nor a ServiceAccount name holds "_"). A name with a "." (which
 * Azure refuses) or too long for 120 characters is cut and given a hash of the whole
 * namespace/name instead, so it stays unique and the same on every run.
 */
export function credentialName(prefix: string, namespace: string, serviceAccount: string): string {
  const plain = `${prefix}${namespace}_${serviceAccount}`;
  if (CREDENTIAL_NAME.test(plain)) return plain;
  const hash = fnv1a(`${namespace}/${serviceAccount}`);
  return `${plain.replace(/\./g, "-").slice(0, 120 - hash.length - 1)}-${hash}`;
}

export interface IdentityCredentials {
  identity: string;
  /** Every credential the identity holds, reseed's and others', by name. */
  credentials: Map<string, Partial<Credential>>;
}

export interface FicWrite {
  identity: string;
  name: string;
  want?: Credential;
  action: "created" | "updated" | "pruned";
  changes: string[];
}

export type FicFanOutPlan =
  | { ok: true; writes: FicWrite[]; targets: { target: string; action: string }[] }
  | { ok: false; matches: number; capacity: number; reason: string };

/**
 * Which credential each matching ServiceAccount gets and on which identity. A credential that
 * exists stays where it is; a new one goes to the first listed identity with room. Room is
 * counted before anything is written: every credential on an identity takes a slot (20 each),
 * except this unit's stale ones under prune, which are deleted first. If the matches do not
 * fit, the plan says so and nothing is written (C1).
 */
export function planCredentialFanOut(opts: {
  prefix: string;
  serviceAccounts: { namespace: string; name: string }[];
  issuer: string;
  audiences: string[];
  identities: IdentityCredentials[];
  prune: boolean;
}): FicFanOutPlan {
  const desired = new Map(
    [...opts.serviceAccounts]
      .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`))
      .map((sa) => [
        credentialName(opts.prefix, sa.namespace, sa.name),
        { issuer: opts.issuer, subject: subjectOf(sa.namespace, sa.name), audiences: opts.audiences } as Credential,
      ]),
  );
  const placed = new Map<string, string>(); // credential name -> identity
  const stale: { identity: string; name: string }[] = [];
  for (const { identity, credentials } of opts.identities) {
    for (const name of [...credentials.keys()].sort()) {
      if (!name.startsWith(opts.prefix)) continue;
      if (desired.has(name) && !placed.has(name)) placed.set(name, identity);
      else stale.push({ identity, name });
    }
  }
  const free = new Map(
    opts.identities.map(({ identity, credentials }) => [identity, MAX_CREDENTIALS_PER_IDENTITY - credentials.size]),
  );
  if (opts.prune) for (const s of stale) free.set(s.identity, free.get(s.identity)! + 1);
  const capacity =
    [...desired.keys()].filter((n) => placed.has(n)).length +
    [...free.values()].reduce((a, b) => a + Math.max(b, 0), 0);
  const unplaced = [...desired.keys()].filter((n) => !placed.has(n));
  for (const name of unplaced) {
    const subject = desired.get(name)!.subject;
    // Azure refuses a second credential with the same issuer and subject on one identity.
    const room = opts.identities.find(
      ({ identity, credentials }) =>
        free.get(identity)! > 0 &&
        ![...credentials.values()].some((c) => c.issuer === opts.issuer && c.subject === subject),
    );
    if (!room) {
      const foreign = opts.identities.reduce(
        (n, { credentials }) => n + [...credentials.keys()].filter((k) => !k.startsWith(opts.prefix)).length,
        0,
      );
      const kept = opts.prune ? 0 : stale.length;
      return {
        ok: false,
        matches: desired.size,
        capacity,
        reason:
          `${desired.size} ServiceAccounts match, but identities ${opts.identities.map((i) => i.identity).join(", ")} can hold only ${capacity} of their credentials ` +
          `(Azure allows ${MAX_CREDENTIALS_PER_IDENTITY} per identity; ${foreign} taken by credentials reseed did not create` +
          `${kept ? `, ${kept} by this unit's credentials for ServiceAccounts that no longer match (prune: true would free them)` : ""})`,
      };
    }
    free.set(room.identity, free.get(room.identity)! - 1);
    placed.set(name, room.identity);
  }
  const writes: FicWrite[] = [];
  const targets: { target: string; action: string }[] = [];
  if (opts.prune)
    for (const s of stale)
      writes.push({
        ...s,
        action: "pruned",
        changes: [
          `deleted federated credential ${s.name} of identity ${s.identity}: its ServiceAccount no longer matches`,
        ],
      });
  for (const s of stale) targets.push({ target: `${s.identity}/${s.name}`, action: opts.prune ? "pruned" : "kept" });
  for (const [name, want] of desired) {
    const identity = placed.get(name)!;
    const have = opts.identities.find((i) => i.identity === identity)!.credentials.get(name);
    const plan = planCredential(name, want, have);
    targets.push({ target: `${identity}/${name} (${want.subject})`, action: plan.write ? plan.action : "unchanged" });
    if (plan.write)
      writes.push({
        identity,
        name,
        want,
        action: plan.action,
        changes: plan.changes.map((c) => `${c} on identity ${identity}`),
      });
  }
  return { ok: true, writes, targets };
}
