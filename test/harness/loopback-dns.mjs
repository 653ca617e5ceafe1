// Loaded into step processes (NODE_OPTIONS=--import) by tests that talk to the fake Key
// Vault: names under .reseed.test resolve to 127.0.0.1, as *.vault.azure.net resolves to a
// vault. Key Vault clients check that the vault's host is a subdomain of the resource in
// its auth challenge, so a fake vault needs a name like a real one, not a bare IP.
import dns from "node:dns";

export const LOOPBACK_SUFFIX = ".reseed.test";
const original = dns.lookup;

dns.lookup = function lookup(hostname, options, callback) {
  if (typeof hostname !== "string" || !hostname.endsWith(LOOPBACK_SUFFIX)) return original.apply(this, arguments);
  const cb = typeof options === "function" ? options : callback;
  const all = typeof options === "object" && options !== null && options.all;
  process.nextTick(() => (all ? cb(null, [{ address: "127.0.0.1", family: 4 }]) : cb(null, "127.0.0.1", 4)));
  return {};
};
