// Conformance case of coder-admin (test code, run by test/conformance/conformance.test.ts).
import { randomBytes } from "node:crypto";
import { startCoderServer, type CoderServer } from "../../../test/harness/coder-server.js";
import type { Admin } from "../../../test/harness/kube-admin.js";
import { reconciler, type ConformanceCase } from "../../../test/conformance/cases.js";

// Coder on PostgreSQL, started once for the file; units talk to it through a counting
// proxy, so the writes counted are the requests Coder received. A "lost state" is what a
// cluster recreate does: Coder stopped, its database dropped and created empty, Coder started.
function coderAdminCase(): ConformanceCase {
  let coder: CoderServer | undefined;
  const server = () => {
    if (!coder) throw new Error("Coder is not running: servers() failed");
    return coder;
  };
  const owner = {
    email: "reseed-bootstrap@corp.internal",
    username: "reseed-bootstrap",
    password: `Pw-${randomBytes(18).toString("base64url")}`,
  };
  const bootstrapSecret = (admin: Admin, ns: string, data: Record<string, string>) =>
    admin.putSecret(ns, "coder-bootstrap-admin", data);
  const without = (key: keyof typeof owner) => (admin: Admin, ns: string) =>
    bootstrapSecret(admin, ns, Object.fromEntries(Object.entries(owner).filter(([k]) => k !== key)));
  return {
    servers: async () => {
      coder ??= await startCoderServer();
    },
    stopServers: async () => {
      await coder?.stop();
      coder = undefined;
    },
    authorityWrites: {
      mark: async () => server().writes.mark(),
      since: async (mark) => server().writes.since(mark),
      notOnePerChange: "the proxy counts every request that is not a read: signing in and out around a token is two",
    },
    spec: () =>
      reconciler(
        "coder-admin",
        {
          url: server().url,
          owner: {
            email: { input: "ownerEmail" },
            username: { input: "ownerUsername" },
            password: { input: "ownerPassword" },
          },
          admin: { email: { input: "adminEmail" }, username: "platform-admin", loginType: "oidc" },
          session: { kubernetesSecret: { name: "coder-reseed-session" } },
        },
        {
          ownerEmail: { secretKeyRef: { name: "coder-bootstrap-admin", key: "email" } },
          ownerUsername: { secretKeyRef: { name: "coder-bootstrap-admin", key: "username" } },
          ownerPassword: { secretKeyRef: { name: "coder-bootstrap-admin", key: "password" } },
          adminEmail: { value: "platform-admin@corp.internal" },
        },
      ),
    setup: (admin, ns) => bootstrapSecret(admin, ns, owner),
    removeInput: {
      ownerEmail: without("email"),
      ownerUsername: without("username"),
      ownerPassword: without("password"),
    },
    deleteState: () => server().resetDatabase(),
    writtenSecrets: async (admin, ns) => [
      owner.password,
      ...Object.values((await admin.readSecret(ns, "coder-reseed-session")) ?? {}),
    ],
  };
}

export const conformance = coderAdminCase();
