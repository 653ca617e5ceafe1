import type { TestProject } from "vitest/node";
import { startKubeServer } from "./kube-server.js";

/** One real API server (with the Argo CRDs) for the whole run; test files reach it with connectKube(inject("kube")). */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const server = await startKubeServer();
  const ready = Date.now();
  try {
    await server.installArgoCrds();
  } catch (err) {
    await server.stop();
    throw err;
  }
  console.log(`test kube-apiserver at ${server.url}: ready in ${ready - started} ms, Argo CRDs served ${Date.now() - ready} ms later`);
  project.provide("kube", server.info);
  return () => server.stop();
}
