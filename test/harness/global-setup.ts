import type { TestProject } from "vitest/node";
import { configureKubernetesAuth } from "./authorities.js";
import { startKeycloak } from "./keycloak.js";
import { startKubeServer } from "./kube-server.js";
import { startOpenBao } from "./openbao.js";
import { startPostgres } from "./postgres.js";

/**
 * The real servers, once for the whole run (PostgreSQL and Keycloak side by side, once the
 * API server has its CRDs): test files reach them with inject("kube" | "openbao" | "postgres" | "keycloak").
 * OpenBao's kubernetes auth trusts the test API server, so it waits for that one.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const kubeAndBao = (async () => {
    const server = await startKubeServer();
    let bao: Awaited<ReturnType<typeof startOpenBao>> | undefined;
    try {
      await server.installArgoCrds();
      bao = await startOpenBao();
      await configureKubernetesAuth(bao.info, server.info);
    } catch (err) {
      await bao?.stop();
      await server.stop();
      throw err;
    }
    return { server, bao };
  })();
  // The API server's CRDs before the others: applying the Argo workflows CRD (megabytes of
  // schema) competes for CPU with Keycloak's start, and on a busy machine the API server times
  // the request out. On an idle one this costs seconds.
  const results = [
    ...(await Promise.allSettled([kubeAndBao])),
    ...(await Promise.allSettled([startPostgres(), startKeycloak()])),
  ];
  const stops = results.flatMap((r) => {
    if (r.status !== "fulfilled") return [];
    const v = r.value;
    return "bao" in v ? [() => v.bao.stop(), () => v.server.stop()] : [() => v.stop()];
  });
  const stopAll = async () => {
    await Promise.all(stops.map((s) => s()));
  };
  const failed = results.flatMap((r) =>
    r.status === "rejected" ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : [],
  );
  if (failed.length) {
    await stopAll();
    throw new Error(`test servers could not start:\n${failed.join("\n")}`);
  }
  const [{ server: kube, bao }, postgres, keycloak] = results.map(
    (r) => (r as PromiseFulfilledResult<unknown>).value,
  ) as [
    Awaited<typeof kubeAndBao>,
    Awaited<ReturnType<typeof startPostgres>>,
    Awaited<ReturnType<typeof startKeycloak>>,
  ];
  console.log(
    `test kube-apiserver ready at ${kube.url} with the Argo CRDs; OpenBao at ${bao.info.address}; ` +
      `PostgreSQL at ${postgres.info.host}:${postgres.info.port} in ${postgres.info.startMs} ms; ` +
      `Keycloak at ${keycloak.info.url} in ${keycloak.info.startMs} ms; all in ${Date.now() - started} ms`,
  );
  project.provide("kube", kube.info);
  project.provide("openbao", bao.info);
  project.provide("postgres", postgres.info);
  project.provide("keycloak", keycloak.info);
  return stopAll;
}
