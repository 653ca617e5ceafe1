// The pure decision of what generated-secret writes, so its rules are tested without I/O:
// missing keys are added, existing values are kept forever, and only a changed rotationId
// (a deliberate Git change) replaces them. A Secret that carries no rotationId yet was made
// by someone else or before rotation was configured: it is adopted (the id is recorded),
// never rotated, because its values may be the only copy.

export interface KeySpec {
  name: string;
}

export interface SecretPlan {
  create: boolean;
  generate: string[];
  rotate: boolean;
  /** Record the rotationId on the Secret without touching any value. */
  recordRotationId: boolean;
  changes: string[];
}

export const ROTATION_ANNOTATION = "reseed.dev/rotation-id";

export function planSecret(
  existing: { data: Record<string, string>; annotations: Record<string, string> } | undefined,
  keys: KeySpec[],
  rotationId: string | undefined,
): SecretPlan {
  if (!existing) {
    return { create: true, generate: keys.map((k) => k.name), rotate: false, recordRotationId: false, changes: [`created with key${keys.length === 1 ? "" : "s"} ${keys.map((k) => k.name).join(", ")}`] };
  }
  const current = existing.annotations[ROTATION_ANNOTATION];
  if (rotationId !== undefined && current !== undefined && rotationId !== current) {
    return {
      create: false,
      generate: keys.map((k) => k.name),
      rotate: true,
      recordRotationId: true,
      changes: [`rotated ${keys.map((k) => k.name).join(", ")} (rotationId ${current ?? "unset"} -> ${rotationId})`],
    };
  }
  const missing = keys.filter((k) => !(k.name in existing.data)).map((k) => k.name);
  const recordRotationId = rotationId !== undefined && current === undefined;
  return {
    create: false,
    generate: missing,
    rotate: false,
    recordRotationId,
    changes: [...missing.map((k) => `added missing key ${k}`), ...(recordRotationId ? [`adopted existing values under rotationId ${rotationId}`] : [])],
  };
}
