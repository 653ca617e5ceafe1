// The baseline for test/bench/sync.ts: the sync a script would do, one key after another,
// reading each source secret and setting it at the destination whether or not it differs.
// Run as its own process with the same environment as a step (workload identity, CA bundle).
import { WorkloadIdentityCredential } from "@azure/identity";
import { SecretClient } from "@azure/keyvault-secrets";

const [from, to, count] = process.argv.slice(2);
const credential = new WorkloadIdentityCredential({
  authorityHost: process.env.AZURE_AUTHORITY_HOST,
  disableInstanceDiscovery: true,
});
const source = new SecretClient(from, credential);
const destination = new SecretClient(to, credential);
for (let i = 0; i < Number(count); i++) {
  const name = `key-${String(i).padStart(4, "0")}`;
  const secret = await source.getSecret(name);
  await destination.setSecret(name, secret.value ?? "");
}
