// The pure decision of azure-federated-credential: the credential is upserted when it is
// missing or its issuer, subject or audiences drifted; otherwise nothing is written.

export interface Credential {
  issuer: string;
  subject: string;
  audiences: string[];
}

export type CredentialPlan = { write: false } | { write: true; action: "created" | "updated"; changes: string[] };

export const subjectOf = (namespace: string, serviceAccount: string) => `system:serviceaccount:${namespace}:${serviceAccount}`;

const sameSet = (a: string[], b: string[]) => a.length === b.length && [...a].sort().every((v, i) => v === [...b].sort()[i]);

export function planCredential(name: string, want: Credential, have: Partial<Credential> | undefined): CredentialPlan {
  if (!have) return { write: true, action: "created", changes: [`created federated credential ${name} for ${want.subject} from ${want.issuer}`] };
  const changes: string[] = [];
  if (have.issuer !== want.issuer) changes.push(`issuer ${have.issuer ?? "unset"} -> ${want.issuer}`);
  if (have.subject !== want.subject) changes.push(`subject ${have.subject ?? "unset"} -> ${want.subject}`);
  if (!sameSet(have.audiences ?? [], want.audiences)) changes.push(`audiences ${(have.audiences ?? []).join(",") || "unset"} -> ${want.audiences.join(",")}`);
  if (!changes.length) return { write: false };
  return { write: true, action: "updated", changes: changes.map((c) => `federated credential ${name}: ${c}`) };
}
