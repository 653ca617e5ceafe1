import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AdminClient } from "./kube-http.js";

// Generous: on a shared two-core machine under load, establishing the Argo CRDs took over a minute.
const READY_TIMEOUT_MS = 180_000;
const APPLY_ATTEMPTS = 3;

interface Crd {
  metadata?: { name?: string };
  spec?: { group?: string; names?: { plural?: string }; versions?: { name: string; served: boolean }[] };
}

/**
 * Applies every CRD in dir (*.json: `make servers` converts the YAML, because as YAML
 * the Argo workflows CRD is over the API server's 3 MiB request limit) and waits
 * until each served version is Established and answers a list.
 */
export async function installCrds(admin: AdminClient, dir: string): Promise<void> {
  const files = (await readdir(dir).catch(() => [] as string[])).filter((name) => name.endsWith(".json"));
  if (files.length === 0) throw new Error(`no CRDs (*.json) in ${dir}: run \`make servers\` to put them there`);

  // One at a time: several multi-MiB applies at once outlast the API server's request
  // timeout on a loaded machine.
  const crds: Crd[] = [];
  for (const file of files)
    crds.push(
      await (async () => {
        const text = await readFile(join(dir, file), "utf8");
        const crd = JSON.parse(text) as Crd;
        const name = crd.metadata?.name;
        if (!name || !crd.spec?.group || !crd.spec.names?.plural) {
          throw new Error(`${join(dir, file)} is not a CustomResourceDefinition (no name, group or plural)`);
        }
        // Server-side apply: idempotent, and no last-applied annotation, which these CRDs are too big for.
        // Idempotent, so a 504 (the API server's own 60 s request timeout, reached with the 3 MiB
        // workflows CRD on a loaded machine) is applied again.
        let res = { status: 504, body: "" };
        for (let attempt = 1; attempt <= APPLY_ATTEMPTS && [429, 503, 504].includes(res.status); attempt++) {
          res = await admin.request(
            "PATCH",
            `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}?fieldManager=reseed-test-harness&force=true`,
            text,
            "application/apply-patch+yaml",
          );
        }
        if (res.status !== 200 && res.status !== 201)
          throw new Error(`applying CRD ${name} answered ${res.status}: ${res.body.slice(0, 500)}`);
        return crd;
      })(),
    );

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (const crd of crds) {
    for (const version of crd.spec?.versions?.filter((v) => v.served) ?? []) {
      await waitServed(admin, `/apis/${crd.spec?.group}/${version.name}`, crd.spec?.names?.plural ?? "", deadline);
    }
  }
}

// Polling the CRD objects themselves would make the server encode megabytes per poll,
// slowing the very controllers being waited for. Discovery lists a resource once its
// CRD is Established; a list then answers 429 until the resource's watch cache is up.
async function waitServed(admin: AdminClient, groupVersion: string, plural: string, deadline: number): Promise<void> {
  let last = "";
  for (;;) {
    const discovery = await admin.request("GET", groupVersion);
    const listed =
      discovery.status === 200 &&
      (JSON.parse(discovery.body) as { resources?: { name: string }[] }).resources?.some((r) => r.name === plural);
    if (listed) {
      const list = await admin.request("GET", `${groupVersion}/${plural}?limit=1`);
      if (list.status === 200) return;
      last = `list answered ${list.status}`;
    } else {
      last = `discovery answered ${discovery.status} without ${plural}`;
    }
    if (Date.now() > deadline)
      throw new Error(`${groupVersion}/${plural} was not served within ${READY_TIMEOUT_MS} ms (${last})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
