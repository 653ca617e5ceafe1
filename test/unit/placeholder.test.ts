import { describe, expect, it } from "vitest";
import { placeholderReason } from "../../steps/core/placeholder.js";

describe("placeholderReason", () => {
  it.each([
    "changeme",
    "CHANGE_ME",
    "placeholder",
    "TODO",
    "dummy",
    "example",
    "xxx",
    "<your-token>",
    "${TOKEN}",
    "{{ .Values.x }}",
    "admin@example.com",
    "https://example.org/x",
    "replace-me-please",
  ])("rejects %s", (v) => expect(placeholderReason(v)).toBeDefined());
  it.each([
    "s3cr3t-9f8a7b6c",
    "admin@platform.internal",
    "https://login.microsoftonline.com/tenant/v2.0",
    "prod-eu-1",
    "exampled-but-real-id-42",
  ])("accepts %s", (v) => expect(placeholderReason(v)).toBeUndefined());
  it("never quotes the value in its reason", () => {
    expect(placeholderReason("abc<secret-part>def")).not.toContain("secret-part");
  });
});
