// Every secret value a step reads is registered here before it is used, and every byte that
// leaves the process (log lines, errors, output parameters, events) passes through mask().
// Client libraries echo request bodies in their errors, and Kubernetes returns Secret data
// in base64, so each value is registered in the encodings it can appear in.

const MASK = "[REDACTED]";

/** Secrets shorter than this cannot be masked without mangling ordinary log text. */
export const MIN_SECRET_LENGTH = 4;

export class Redactor {
  private readonly forms = new Set<string>();
  private pattern: RegExp | undefined;

  register(secret: string): void {
    if (secret.length < MIN_SECRET_LENGTH) return;
    const buf = Buffer.from(secret, "utf8");
    const candidates = [
      secret,
      buf.toString("base64"),
      buf.toString("base64").replace(/=+$/, ""),
      buf.toString("base64url"),
      buf.toString("hex"),
      encodeURIComponent(secret),
      JSON.stringify(secret).slice(1, -1),
    ];
    let changed = false;
    for (const form of candidates) {
      if (form.length >= MIN_SECRET_LENGTH && !this.forms.has(form)) {
        this.forms.add(form);
        changed = true;
      }
    }
    if (changed) this.pattern = undefined;
  }

  get size(): number {
    return this.forms.size;
  }

  mask(text: string): string {
    if (this.forms.size === 0) return text;
    this.pattern ??= new RegExp(
      [...this.forms]
        .sort((a, b) => b.length - a.length)
        .map((f) => f.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
        .join("|"),
      "g",
    );
    return text.replace(this.pattern, MASK);
  }
}
