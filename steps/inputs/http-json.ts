import { httpGet, pickField } from "../core/http.js";
import type { InputRef } from "../core/spec.js";
import type { InputSource } from "./source.js";

/** A runtime fact published by a service as JSON, e.g. the cluster's OIDC discovery `issuer`. */
export const httpJsonSource: InputSource<Extract<InputRef, { httpJson: unknown }>> = {
  key: "httpJson",
  resolve: async ({ httpJson: ref }, { timeoutMs, redactor }) => {
    let res;
    try {
      res = await httpGet(ref.url, {
        timeoutMs,
        caFile: ref.caFile,
        bearer: ref.bearerTokenFile ? { tokenFile: ref.bearerTokenFile, redactor } : undefined,
      });
    } catch (err) {
      return { absent: `request failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    if (res.status !== 200) return { absent: `answered HTTP ${res.status}` };
    let doc: unknown;
    try {
      doc = JSON.parse(res.body);
    } catch {
      return { absent: "did not answer JSON" };
    }
    const value = pickField(doc, ref.field);
    if (value === undefined || value === null) return { absent: `has no field ${ref.field}` };
    return { value: typeof value === "string" ? value : JSON.stringify(value) };
  },
};
