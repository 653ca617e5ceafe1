import type { TestProject } from "vitest/node";
import { configureKubernetesAuth } from "./authorities.js";
import { startKubeServer } from "./kube-server.js";
import { startOpenBao } from "./openbao.js";

/**
 * One real API server (with the Argo CRDs) and one real OpenBao (its kubernetes auth
 * trusting that API server) for the whole run; test files reach them with
 * connectKube(inject("kube")) and inject("openbao").
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const server = await startKubeServer();
  try {
    await server.installArgoCrds();
  } catch (err) {
    await server.stop();
    throw err;
  }
  console.log(`test kube-apiserver ready at ${server.url} with the Argo CRDs in ${Date.now() - started} ms`);
  const baoStarted = Date.now();
  let bao;
  try {
    bao = await startOpenBao();
    await configureKubernetesAuth(bao.info, server.info);
  } catch (err) {
    await bao?.stop();
    await server.stop();
    throw err;
  }
  console.log(`test OpenBao ready at ${bao.info.address} with kubernetes auth in ${Date.now() - baoStarted} ms`);
  project.provide("kube", server.info);
  project.provide("openbao", bao.info);
  return async () => {
    await bao.stop();
    await server.stop();
  };
}
