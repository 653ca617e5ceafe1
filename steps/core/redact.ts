// Every secret value a step reads is registered here before it is used, and every byte that
// leaves the process (log lines, errors, output parameters, events) passes through mask().
// Client libraries echo request bodies in their errors, and Kubernetes returns Secret data
// in base64, so each value is registered in the encodings it can appear in.

const MASK = "[REDACTED]";

/** Secrets shorter than this cannot be masked without mangling ordinary log text. */
export const MIN_SECRET_LENGTH = 4;

export class Redactor {
  // Forms are found by their first MIN_SECRET_LENGTH characters, so registering costs the
  // same with ten values as with ten thousand (a sync registers values between log lines;
  // one alternation regex, recompiled after each, made that quadratic: about a minute for
  // 2,000 values). Each bucket is longest first, so a match is leftmost-longest.
  private readonly byPrefix = new Map<string, string[]>();
  private count = 0;

  register(secret: string): void {
    if (secret.length < MIN_SECRET_LENGTH) return;
    const buf = Buffer.from(secret, "utf8");
    for (const form of [
      secret,
      buf.toString("base64"),
      buf.toString("base64").replace(/=+$/, ""),
      buf.toString("base64url"),
      buf.toString("hex"),
      encodeURIComponent(secret),
      JSON.stringify(secret).slice(1, -1),
    ]) {
      if (form.length >= MIN_SECRET_LENGTH) this.add(form);
    }
  }

  get size(): number {
    return this.count;
  }

  mask(text: string): string {
    if (this.count === 0) return text;
    let out = "";
    let copied = 0;
    let i = 0;
    while (i <= text.length - MIN_SECRET_LENGTH) {
      const hit = this.byPrefix.get(text.slice(i, i + MIN_SECRET_LENGTH))?.find((form) => text.startsWith(form, i));
      if (hit === undefined) {
        i++;
        continue;
      }
      out += text.slice(copied, i) + MASK;
      i += hit.length;
      copied = i;
    }
    return copied === 0 ? text : out + text.slice(copied);
  }

  private add(form: string): void {
    const prefix = form.slice(0, MIN_SECRET_LENGTH);
    const bucket = this.byPrefix.get(prefix);
    if (bucket === undefined) {
      this.byPrefix.set(prefix, [form]);
    } else if (!bucket.includes(form)) {
      const at = bucket.findIndex((other) => other.length < form.length);
      bucket.splice(at === -1 ? bucket.length : at, 0, form);
    } else {
      return;
    }
    this.count++;
  }
}
