// C1: in a managed environment a value that only stands in for the real one is an error,
// never a silent fallback. These are the stand-ins people actually commit. Reasons never
// quote the value: it may be a secret.
const rules: Array<[RegExp, string]> = [
  [
    /^(change[-_ ]?me|changeit|placeholder|todo|tbd|fixme|dummy|example|sample|xxx+|replace[-_ ]?me|your[-_ ].*|secret|password|passw0rd|default|test|none|null|nil|undefined|n\/a|-|\*+)$/i,
    "is a well-known placeholder word",
  ],
  [/change[-_]?me|placeholder|replace[-_]?me/i, "contains a placeholder word"],
  [/<[^<>]+>|\$\{[^}]*\}|\{\{[^}]*\}\}/, "contains an unrendered template (<…>, ${…} or {{…}})"],
  [/(@|\/\/|\.)example\.(com|org|net)\b/i, "uses a reserved example domain (RFC 2606)"],
];

export function placeholderReason(value: string): string | undefined {
  const v = value.trim();
  for (const [pattern, reason] of rules) if (pattern.test(v)) return reason;
  return undefined;
}
