import { describe, expect, it } from "vitest";
import { selectorString } from "../../steps/core/selector.js";
import {
  CREDENTIAL_NAME,
  credentialName,
  planCredentialFanOut,
} from "../../steps/kinds/azure-federated-credential/plan.js";
import { planFanOut, type FanOutTarget } from "../../steps/kinds/secret-sync/plan.js";

const pairs = [{ from: "token", to: "token" }];
const source = { token: "ghp-0123456789abcdef" };
const target = (namespace: string, t: Partial<FanOutTarget> = {}): FanOutTarget => ({
  namespace,
  matches: true,
  data: undefined,
  ours: false,
  ...t,
});
const plan = (
  targets: FanOutTarget[],
  more: { prune?: boolean; drift?: "correct" | "report"; sourceNamespace?: string; prunePrefix?: string } = {},
) =>
  planFanOut({
    pairs,
    source,
    targets,
    drift: more.drift ?? "correct",
    prune: more.prune ?? false,
    prunePrefix: more.prunePrefix,
    sourceNamespace: more.sourceNamespace,
  }).map((s) => [s.namespace, s.action, s.data ?? null, s.delete ?? false]);

describe("secret-sync fan-out plan", () => {
  it("creates the Secret in each matching namespace that lacks it, and writes nothing where it is equal", () => {
    expect(plan([target("ws-b"), target("ws-a", { data: { ...source }, ours: true })])).toEqual([
      ["ws-a", "unchanged", null, false],
      ["ws-b", "created", source, false],
    ]);
  });

  it("corrects a drifted key and keeps the Secret's other keys; report leaves it", () => {
    const drifted = target("ws-a", { data: { token: "ghp-old-value-0000000", other: "x" }, ours: true });
    expect(plan([drifted])).toEqual([["ws-a", "updated", { token: source.token, other: "x" }, false]]);
    expect(plan([drifted], { drift: "report" })).toEqual([["ws-a", "unchanged", null, false]]);
  });

  it("keeps a Secret in a namespace that no longer matches unless prune is on, and prunes only its own", () => {
    const gone = target("ws-old", { matches: false, data: { ...source }, ours: true });
    const foreign = target("ws-foreign", { matches: false, data: { ...source }, ours: false });
    expect(plan([gone, foreign])).toEqual([["ws-old", "kept", null, false]]);
    expect(plan([gone, foreign], { prune: true })).toEqual([["ws-old", "pruned", null, true]]);
  });

  it("never writes over a Secret of that name it did not write, in a matching namespace", () => {
    expect(plan([target("ws-a", { data: { token: "someone-elses-value" }, ours: false })])).toEqual([
      ["ws-a", "conflict", null, false],
    ]);
  });

  it("skips the source's own namespace", () => {
    expect(
      plan([target("platform", { data: { ...source } }), target("ws-a")], { sourceNamespace: "platform" }),
    ).toEqual([
      ["platform", "skipped", null, false],
      ["ws-a", "created", source, false],
    ]);
  });

  it("prunes keys under the destination prefix inside each Secret under prune", () => {
    const t = target("ws-a", { data: { ...source, "codex-old": "x".repeat(20) }, ours: true });
    expect(
      planFanOut({ pairs, source, targets: [t], drift: "correct", prune: true, prunePrefix: "codex-" })[0],
    ).toMatchObject({ action: "updated", data: source });
  });
});

describe("label selector", () => {
  it("renders matchLabels and every operator in a stable order", () => {
    expect(
      selectorString({
        matchLabels: { tier: "ws", "app.kubernetes.io/part-of": "coder" },
        matchExpressions: [
          { key: "env", operator: "In", values: ["prod", "dev"] },
          { key: "quarantine", operator: "DoesNotExist" },
          { key: "owner", operator: "Exists" },
          { key: "team", operator: "NotIn", values: ["x"] },
        ],
      }),
    ).toBe("app.kubernetes.io/part-of=coder,tier=ws,env in (dev,prod),!quarantine,owner,team notin (x)");
  });
});

describe("federated credential fan-out plan", () => {
  const issuer = "https://oidc.example.internal";
  const audiences = ["api://AzureADTokenExchange"];
  const filled = (n: number, prefix = "other-") =>
    new Map(
      Array.from({ length: n }, (_, i) => [
        `${prefix}${i}`,
        { issuer, subject: `system:serviceaccount:x:${prefix}${i}`, audiences },
      ]),
    );
  const sas = (n: number) => Array.from({ length: n }, (_, i) => ({ namespace: `ws-${i}`, name: "workspace" }));
  /** The plan for `accounts` ServiceAccounts over `identities`: prefix, issuer and audiences the same in every case. */
  const plan = (
    accounts: number,
    identities: Parameters<typeof planCredentialFanOut>[0]["identities"],
    prune: boolean,
  ) => planCredentialFanOut({ prefix: "r-", serviceAccounts: sas(accounts), issuer, audiences, identities, prune });

  it("names each credential from namespace and name within Azure's rule, deterministically", () => {
    expect(credentialName("reseed-", "ws-1", "workspace")).toBe("reseed-ws-1_workspace");
    const dotted = credentialName("reseed-", "ws-1", "my.sa");
    expect(dotted).toMatch(CREDENTIAL_NAME);
    expect(dotted).not.toBe(credentialName("reseed-", "ws-1", "my-sa"));
    const long = credentialName("p".repeat(40), "n".repeat(63), "s".repeat(253));
    expect(long).toMatch(CREDENTIAL_NAME);
    expect(long).toHaveLength(120);
    expect(credentialName("p".repeat(40), "n".repeat(63), "s".repeat(253))).toBe(long);
    expect(credentialName("p".repeat(40), "n".repeat(63), `${"s".repeat(252)}t`)).not.toBe(long);
  });

  it("fills identities in order and refuses, before any write, what does not fit", () => {
    const ok = plan(
      3,
      [
        { identity: "a", credentials: filled(19) },
        { identity: "b", credentials: new Map() },
      ],
      false,
    );
    expect(ok.ok && ok.writes.map((w) => `${w.identity}/${w.name}`)).toEqual([
      "a/r-ws-0_workspace",
      "b/r-ws-1_workspace",
      "b/r-ws-2_workspace",
    ]);
    const full = plan(
      3,
      [
        { identity: "a", credentials: filled(19) },
        { identity: "b", credentials: filled(19) },
      ],
      false,
    );
    expect(full).toMatchObject({ ok: false, matches: 3, capacity: 2 });
  });

  it("counts its own stale credentials as taken unless prune deletes them first", () => {
    const stale = filled(20, "r-gone-");
    expect(plan(1, [{ identity: "a", credentials: stale }], false)).toMatchObject({ ok: false, capacity: 0 });
    const pruned = plan(1, [{ identity: "a", credentials: stale }], true);
    expect(pruned.ok && pruned.writes.map((w) => w.action)).toEqual([...Array(20).fill("pruned"), "created"]);
  });
});
