// What the conformance cases of generated-secret and secret-sync share: the real OpenBao and
// the fake Key Vault (see test/harness/fake-key-vault.ts for why it is a fake), the unit's
// logins to them, and the writes counted at each.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { inject } from "vitest";
import { authorityStepEnv, caBundle, fakeKeyVault, projectedToken } from "../harness/authorities.js";
import type { FakeKeyVault } from "../harness/fake-key-vault.js";
import { OpenBaoAdmin, OpenBaoAudit } from "../harness/openbao.js";
import type { ConformanceCase, WriteCounter } from "./cases.js";

/** The unit's ServiceAccount in the suite's namespace. */
export const SA = "unit";

/** Token files and the CA bundle live beside the API server's kubeconfigs, and go with it. */
export const filesDir = () => join(inject("kube").kubeconfigDir, "authorities");
export const tokenFile = (caseName: string) => join(filesDir(), `${caseName.replace(/[^a-z0-9]+/gi, "-")}.vault-token`);

/** The fake Azure and the CA bundle the cases share in this test process, made on first use. */
export const shared = {
  azure: undefined as FakeKeyVault | undefined,
  bundle: "",
  async ready(): Promise<FakeKeyVault> {
    if (!this.azure) {
      this.azure = await fakeKeyVault(inject("kube"));
      this.bundle = await caBundle([inject("openbao").caFile, this.azure.caFile], filesDir());
    }
    return this.azure;
  },
};

export const bao = () => new OpenBaoAdmin(inject("openbao"));
export const baoWrites = (): WriteCounter => {
  const audit = new OpenBaoAudit(inject("openbao").auditLog);
  return { mark: () => audit.mark(), since: (m) => audit.since(m) };
};
export const keyVaultWrites = (vaults: string[]): WriteCounter => ({
  mark: async () => shared.azure!.mark(),
  since: async (m) => shared.azure!.writesSince(m).filter((w) => vaults.includes(w.split(" ")[2]!)),
});

/** A case whose unit logs in to OpenBao with a token file: its servers, step environment and audit count. */
export const withVaultLogin = (): Pick<ConformanceCase, "servers" | "stepEnv" | "authorityWrites"> => ({
  servers: async () => void (await shared.ready()),
  stepEnv: () => authorityStepEnv(shared.bundle),
  authorityWrites: baoWrites(),
});

/** A token file for Vault's kubernetes auth, and a role that lets the unit's ServiceAccount use one policy. */
export async function vaultLogin(ns: string, file: string, role: string, policy: string): Promise<void> {
  await bao().policy(role, policy);
  await bao().kubernetesRole(role, { namespace: ns, name: SA }, [role]);
  await projectedToken(inject("kube"), ns, SA, { file });
}

/** removeInput's entry for the token file of a case that logs in to OpenBao. */
export const tokenFileInput = (caseName: string) => ({
  [`file ${tokenFile(caseName)}`]: () => rm(tokenFile(caseName), { force: true }),
});

/** Step environment that can be taken away one variable at a time, the way removeInput wants. */
export function removableEnv() {
  const removed = new Set<string>();
  let env: Record<string, string> = {};
  return {
    set: (e: Record<string, string>) => {
      env = e;
      removed.clear();
    },
    remove: async (name: string) => void removed.add(name),
    get: (): Record<string, string> => ({
      ...authorityStepEnv(shared.bundle),
      ...Object.fromEntries(Object.entries(env).filter(([k]) => !removed.has(k))),
    }),
  };
}
