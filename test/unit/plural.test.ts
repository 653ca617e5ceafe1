import { describe, expect, it } from "vitest";
import { pluralOf } from "../../steps/core/access.js";

describe("pluralOf: the resource name RBAC needs for a kind", () => {
  it.each([
    ["Secret", "secrets"],
    ["Deployment", "deployments"],
    ["Ingress", "ingresses"],
    ["NetworkPolicy", "networkpolicies"],
    ["Gateway", "gateways"],
    ["Endpoints", "endpoints"],
    ["Prometheus", "prometheuses"],
    ["Elasticsearch", "elasticsearches"],
    ["Mesh", "meshes"],
    ["Box", "boxes"],
  ])("%s → %s", (kind, plural) => {
    expect(pluralOf({ kind })).toBe(plural);
  });

  it("a reference's own resource wins (a CRD with an irregular plural)", () => {
    expect(pluralOf({ kind: "Cactus", resource: "cacti" })).toBe("cacti");
  });
});
