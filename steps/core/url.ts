import * as z from "./zod.js";

// URL fields say which schemes they take. Without it, "vault.svc:8200" parses as a URL with
// the scheme "vault.svc:", passes the schema, and fails only at run time (as a dependency
// timeout, exit 12, for a probe: a configuration error reported as an outage).

/** http:// or https:// (probes, httpJson inputs, Vault addresses). */
export const httpUrl = z
  .url({ protocol: /^https?$/, error: "must be an http:// or https:// URL" })
  .check(z.meta({ pattern: "^https?://" }));

/** https:// only (Key Vault). */
export const httpsUrl = z
  .url({ protocol: /^https$/, error: "must be an https:// URL" })
  .check(z.meta({ pattern: "^https://" }));
