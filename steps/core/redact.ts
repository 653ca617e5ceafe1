// Every secret value a step reads is registered here before it is used, and every byte that
// leaves the process (log lines, errors, output parameters, events) passes through mask()
// before anything shortens or rewrites it (see egress() below).
//
// A secret travels in more shapes than its own: client libraries echo request bodies in
// their errors, servers quote requests back (validation errors, WAF pages, proxies), and
// Kubernetes returns Secret data in base64. So each value is registered in every encoding
// it can appear in, and any run of MIN_FRAGMENT characters of any of those forms is masked
// too: a server that answers "value 'abcdefgh…' is too long" echoes a prefix, and a length
// cap somewhere upstream cuts a value in the middle.

export const MASK = "[REDACTED]";

/** Secrets shorter than this cannot be masked without mangling ordinary log text. */
export const MIN_SECRET_LENGTH = 4;

/** Any run this long of a registered form is masked, wherever it starts and ends. */
export const MIN_FRAGMENT = 12;

const SHORT = MIN_SECRET_LENGTH;
const WINDOW = MIN_FRAGMENT;
const BASE = 0x01000193; // FNV prime: a multiplier that spreads UTF-16 code units well

/** B^(n-1) mod 2^32, to drop the leading code unit from a rolling hash of n units. */
function topPower(n: number): number {
  let p = 1;
  for (let i = 1; i < n; i++) p = Math.imul(p, BASE);
  return p;
}
const TOP_WINDOW = topPower(WINDOW);
const TOP_SHORT = topPower(SHORT);

const BACKSLASH = 92;
const LOWER_U = 117;

/** How many backslashes in a row end just before position p. */
function backslashesBefore(text: string, p: number): number {
  let k = 0;
  while (p - k > 0 && text.charCodeAt(p - k - 1) === BACKSLASH) k++;
  return k;
}

// Log lines are masked after serialisation: a mask that began or ended inside a JSON escape
// (`\"`, `\\`, `\u0041`) would leave half of it ("\" + MASK) and the line would no longer
// parse, in the Argo UI or for `reseed status`. So a mask widens to whole escapes; it only
// ever covers more, never less, and text that is not JSON loses at most a few characters.

/** Where a mask that would start at p starts so that no escape before it is cut in two. */
function escapeStart(text: string, p: number): number {
  // An odd run of backslashes before p ends in an escape's introducer: its escaped character is at p.
  if (backslashesBefore(text, p) % 2 === 1) return p - 1;
  // A `\uXXXX` that began up to four characters before p.
  for (let q = p - 1; q >= Math.max(1, p - 4); q--)
    if (text.charCodeAt(q) === LOWER_U && backslashesBefore(text, q) % 2 === 1) return q - 1;
  return p;
}

/** Where a mask that would end at e ends so that no escape it began is left open. */
function escapeEnd(text: string, e: number): number {
  if (e >= text.length || backslashesBefore(text, e) % 2 === 0) return e;
  return Math.min(text.length, e + (text.charCodeAt(e) === LOWER_U ? 5 : 1));
}

function hashOf(s: string, from: number, n: number): number {
  let h = 0;
  for (let i = from; i < from + n; i++) h = (Math.imul(h, BASE) + s.charCodeAt(i)) | 0;
  return h;
}

const escapeJson = (s: string, hex: "lower" | "upper", html: boolean): string =>
  JSON.stringify(s)
    .slice(1, -1)
    .replace(html ? /[^\x20-\x7e]|[<>&]/g : /[^\x20-\x7e]/g, (c) => {
      const code = c.charCodeAt(0).toString(16).padStart(4, "0");
      return `\\u${hex === "upper" ? code.toUpperCase() : code}`;
    });

const escapeHtml = (s: string, apos: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": apos })[c]!);

/**
 * The base64 of a secret embedded in a longer value (a Basic auth header `user:secret`, a
 * token, a Secret's data) depends on where the secret falls in the 3-byte groups. For each
 * of the three offsets, the characters that encode only secret bytes are the same whatever
 * surrounds it: that middle part is a form of its own.
 */
function embeddedBase64(buf: Buffer): string[] {
  const out: string[] = [];
  for (const lead of [1, 2]) {
    const b64 = Buffer.concat([Buffer.alloc(lead), buf]).toString("base64");
    // The first group mixes in the unknown bytes before; the last group those after.
    const inner = b64.slice(4, Math.floor((lead + buf.length) / 3) * 4);
    out.push(inner, inner.replace(/\+/g, "-").replace(/\//g, "_"));
  }
  return out;
}

/** Every form a secret can travel in; each is masked whole, and (from MIN_FRAGMENT chars on) in part. */
export function formsOf(secret: string): string[] {
  const buf = Buffer.from(secret, "utf8");
  const b64 = buf.toString("base64");
  const uri = encodeURIComponent(secret);
  const forms = [
    secret,
    b64,
    b64.replace(/=+$/, ""),
    buf.toString("base64url"),
    ...embeddedBase64(buf),
    buf.toString("hex"),
    buf.toString("hex").toUpperCase(),
    uri,
    uri.replace(/%[0-9A-F]{2}/g, (p) => p.toLowerCase()),
    // application/x-www-form-urlencoded as URLSearchParams writes it (the OAuth token request body).
    new URLSearchParams({ v: secret }).toString().slice(2),
    // encodeURI leaves reserved characters alone: a value that was put into a URL whole.
    encodeURI(secret),
    JSON.stringify(secret).slice(1, -1),
    escapeJson(secret, "lower", false),
    escapeJson(secret, "upper", false),
    // Go's encoding/json also escapes <, > and & (Coder, Vault and OpenBao answer with it).
    escapeJson(secret, "lower", true),
    escapeHtml(secret, "&#39;"),
    // UTF-8 bytes read back as Latin-1: how HTTP clients decode a header or status text.
    buf.toString("latin1"),
    escapeHtml(secret, "&#x27;"),
  ];
  return [...new Set(forms)];
}

/**
 * Windows of registered forms by the rolling hash of their characters: an open-addressing
 * table in typed arrays (a Map of 700,000 entries made registering 2,000 values take
 * seconds). Several windows may share a hash; all are kept, and a caller confirms a hit
 * character by character.
 */
class WindowTable {
  private bits = 10;
  private hashes = new Int32Array(1 << this.bits);
  /** form index + 1; 0 marks an empty slot. */
  private forms = new Int32Array(1 << this.bits);
  private offsets = new Int32Array(1 << this.bits);
  private count = 0;
  // A bit per hash, four times as many bits as slots: most positions of a text hit no
  // window, and this small array answers that without touching the (large) table, whose
  // random reads miss the CPU cache (2,000 values: 1 MiB masked in 300 ms without it).
  private filterBits = this.bits + 2;
  private filter = new Int32Array(1 << (this.filterBits - 5));

  private slot(h: number): number {
    return Math.imul(h, 0x9e3779b1) >>> (32 - this.bits);
  }

  private bit(h: number): number {
    return Math.imul(h ^ (h >>> 15), 0x85ebca6b) >>> (32 - this.filterBits);
  }

  add(h: number, form: number, offset: number): void {
    if (++this.count * 2 > this.forms.length) this.grow();
    this.put(h, form + 1, offset);
  }

  /** Calls fn with each (form, offset) stored under h. */
  each(h: number, fn: (form: number, offset: number) => void): void {
    const b = this.bit(h);
    if (((this.filter[b >>> 5]! >>> (b & 31)) & 1) === 0) return;
    const mask = this.forms.length - 1;
    for (let i = this.slot(h); this.forms[i] !== 0; i = (i + 1) & mask)
      if (this.hashes[i] === h) fn(this.forms[i]! - 1, this.offsets[i]!);
  }

  private put(h: number, formPlusOne: number, offset: number): void {
    const mask = this.forms.length - 1;
    let i = this.slot(h);
    while (this.forms[i] !== 0) i = (i + 1) & mask;
    this.hashes[i] = h;
    this.forms[i] = formPlusOne;
    this.offsets[i] = offset;
    const b = this.bit(h);
    this.filter[b >>> 5]! |= 1 << (b & 31);
  }

  private grow(): void {
    const { hashes, forms, offsets } = this;
    this.bits++;
    this.hashes = new Int32Array(1 << this.bits);
    this.forms = new Int32Array(1 << this.bits);
    this.offsets = new Int32Array(1 << this.bits);
    this.filterBits = this.bits + 2;
    this.filter = new Int32Array(1 << (this.filterBits - 5));
    for (let i = 0; i < forms.length; i++) if (forms[i] !== 0) this.put(hashes[i]!, forms[i]!, offsets[i]!);
  }
}

export class Redactor {
  // Forms are indexed by a rolling hash of their MIN_FRAGMENT-character windows, so masking
  // costs the same with ten values registered as with ten thousand, and registering between
  // log lines rebuilds nothing (one alternation regex, recompiled after each registration,
  // made a 2,000-value sync take a minute).
  private readonly windows = new WindowTable();
  /** Whole forms shorter than MIN_FRAGMENT, by the hash of their first MIN_SECRET_LENGTH characters. */
  private readonly shortForms = new Map<number, string[]>();
  private readonly forms: string[] = [];
  private readonly known = new Set<string>();
  private readonly secrets = new Set<string>();

  register(secret: string): void {
    if (secret.length < MIN_SECRET_LENGTH || this.secrets.has(secret)) return;
    this.secrets.add(secret);
    for (const form of formsOf(secret)) if (form.length >= MIN_SECRET_LENGTH) this.add(form);
  }

  /**
   * Whether text holds a registered form whole: a credential echoed into it, not a run it
   * merely shares with one (a secret email's "@corp.internal" in a non-secret address).
   */
  holdsWhole(text: string): boolean {
    for (const form of this.known) if (text.includes(form)) return true;
    return false;
  }

  /** How many distinct forms are registered. */
  get size(): number {
    return this.known.size;
  }

  mask(text: string): string {
    if (this.known.size === 0 || text.length < SHORT) return text;
    const n = text.length;
    const hasShort = this.shortForms.size > 0;
    const hasLong = this.forms.length > 0;
    let out = "";
    let copied = 0;
    let i = 0;
    let hw = 0;
    let hs = 0;
    // hw and hs are the hashes of the windows starting at i while `synced`.
    let synced = false;
    let len = 0;
    const consider = (form: number, offset: number) => {
      const l = this.extend(text, i, form, offset);
      if (l > len) len = l;
    };
    while (i <= n - SHORT) {
      if (!synced) {
        if (hasLong && i + WINDOW <= n) hw = hashOf(text, i, WINDOW);
        if (hasShort) hs = hashOf(text, i, SHORT);
        synced = true;
      }
      len = 0;
      if (hasLong && i + WINDOW <= n) this.windows.each(hw, consider);
      if (hasShort) {
        for (const form of this.shortForms.get(hs) ?? [])
          if (form.length > len && text.startsWith(form, i)) len = form.length;
      }
      if (len > 0) {
        const start = Math.max(copied, escapeStart(text, i));
        // Runs that follow each other (a value matched in pieces) read as one mask.
        out += start === copied && copied > 0 ? "" : text.slice(copied, start) + MASK;
        i = escapeEnd(text, i + len);
        copied = i;
        synced = false;
        continue;
      }
      if (hasLong && i + WINDOW < n)
        hw = (Math.imul(hw - Math.imul(text.charCodeAt(i), TOP_WINDOW), BASE) + text.charCodeAt(i + WINDOW)) | 0;
      if (hasShort && i + SHORT < n)
        hs = (Math.imul(hs - Math.imul(text.charCodeAt(i), TOP_SHORT), BASE) + text.charCodeAt(i + SHORT)) | 0;
      i++;
    }
    return copied === 0 ? text : out + text.slice(copied);
  }

  /** How long a run of the form, from `offset` on, matches text from i on: 0 when the window is a hash collision. */
  private extend(text: string, i: number, formIndex: number, offset: number): number {
    const form = this.forms[formIndex]!;
    let j = 0;
    while (offset + j < form.length && i + j < text.length && text.charCodeAt(i + j) === form.charCodeAt(offset + j))
      j++;
    return j >= WINDOW ? j : 0;
  }

  private add(form: string): void {
    if (this.known.has(form)) return;
    this.known.add(form);
    if (form.length < WINDOW) {
      const h = hashOf(form, 0, SHORT);
      const bucket = this.shortForms.get(h);
      if (bucket) bucket.push(form);
      else this.shortForms.set(h, [form]);
      return;
    }
    const id = this.forms.push(form) - 1;
    let h = hashOf(form, 0, WINDOW);
    for (let at = 0; at + WINDOW <= form.length; at++) {
      if (at > 0)
        h =
          (Math.imul(h - Math.imul(form.charCodeAt(at - 1), TOP_WINDOW), BASE) + form.charCodeAt(at + WINDOW - 1)) | 0;
      // A window already held (values sharing a prefix or suffix, a form inside another) is
      // stored once: thousands of equal keys would make the table's probing quadratic. The
      // match may then end where the stored form's run ends; masking goes on from there,
      // and any 12 characters of the rest are a window of their own.
      let held = false;
      this.windows.each(h, (f, o) => {
        if (held) return;
        const other = this.forms[f]!;
        let k = 0;
        while (k < WINDOW && other.charCodeAt(o + k) === form.charCodeAt(at + k)) k++;
        held = k === WINDOW;
      });
      if (!held) this.windows.add(h, id, at);
    }
  }
}

/**
 * The one way text that may hold secret material is shortened or reshaped for evidence:
 * masked first, then cut to its first line and to `max` characters. Cutting first would
 * leave the part of a secret before the cut, which no registered form matches.
 */
export function egress(redactor: Redactor, text: string, max = Infinity): string {
  const masked = redactor.mask(text);
  const line = masked.split("\n", 1)[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}
