import type { TestProject } from "vitest/node";
import { startKeycloak } from "./keycloak.js";
import { startKubeServer } from "./kube-server.js";
import { startPostgres } from "./postgres.js";

/**
 * The real servers, once for the whole run and started side by side (Keycloak takes the
 * longest): test files reach them with inject("kube" | "postgres" | "keycloak").
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const results = await Promise.allSettled([
    (async () => {
      const server = await startKubeServer();
      try {
        await server.installArgoCrds();
      } catch (err) {
        await server.stop();
        throw err;
      }
      return server;
    })(),
    startPostgres(),
    startKeycloak(),
  ]);
  const stops = results.flatMap((r) => (r.status === "fulfilled" ? [() => r.value.stop()] : []));
  const stopAll = async () => {
    await Promise.all(stops.map((s) => s()));
  };
  const failed = results.flatMap((r) => (r.status === "rejected" ? [r.reason instanceof Error ? r.reason.message : String(r.reason)] : []));
  if (failed.length) {
    await stopAll();
    throw new Error(`test servers could not start:\n${failed.join("\n")}`);
  }
  const [kube, postgres, keycloak] = results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as [
    Awaited<ReturnType<typeof startKubeServer>>,
    Awaited<ReturnType<typeof startPostgres>>,
    Awaited<ReturnType<typeof startKeycloak>>,
  ];
  console.log(`test kube-apiserver ready at ${kube.url} with the Argo CRDs; PostgreSQL at ${postgres.info.host}:${postgres.info.port} ` +
    `in ${postgres.info.startMs} ms; Keycloak at ${keycloak.info.url} in ${keycloak.info.startMs} ms; all in ${Date.now() - started} ms`);
  project.provide("kube", kube.info);
  project.provide("postgres", postgres.info);
  project.provide("keycloak", keycloak.info);
  return stopAll;
}
