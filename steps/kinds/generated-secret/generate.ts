import { randomInt } from "node:crypto";

export const charsets = {
  alphanumeric: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
  // Printable ASCII without space, quotes and backslash, which break shells, URLs and YAML.
  ascii: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&()*+,-./:;<=>?@[]^_{|}~",
  hex: "0123456789abcdef",
  base64url: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
} as const;
export type Charset = keyof typeof charsets;

/** Uniform over the charset: randomInt rejects biased samples, unlike byte % length. */
export function generateValue(length: number, charset: Charset): string {
  const alphabet = charsets[charset];
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}
