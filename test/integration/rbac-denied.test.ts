// RBAC proven from the denied side: the chart's rendered ServiceAccounts, Roles and
// RoleBindings (helm template of each example environment) applied to the real test API
// server, then real requests made as each unit's ServiceAccount (impersonated by the admin,
// so the API server authorizes exactly that identity and its groups). Everything a unit does
// not own is refused with 403, and what it owns is not (the check has teeth).
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import { beforeAll, describe, expect, inject, it } from "vitest";
import * as z from "zod";
import { jsonClient, type AdminClient } from "../harness/kube-http.js";
import { Admin } from "../harness/kube-admin.js";
import { examples, render, type Obj } from "../harness/helm.js";

const kubeInfo = inject("kube");
const admin = new Admin(kubeInfo.adminKubeconfig);
const agent = new Agent({
  ca: readFileSync(kubeInfo.caFile),
  cert: readFileSync(kubeInfo.adminCertFile),
  key: readFileSync(kubeInfo.adminKeyFile),
  keepAlive: false,
});

const rule = z.object({
  apiGroups: z.array(z.string()),
  resources: z.array(z.string()),
  verbs: z.array(z.string()),
  resourceNames: z.array(z.string()).optional(),
});

/** Requests as `system:serviceaccount:<ns>:<name>`, with the groups its token would carry. */
function as(ns: string, name: string): AdminClient {
  return jsonClient(kubeInfo.url, (o) => {
    o.agent = agent;
    o.headers = {
      ...o.headers,
      "impersonate-user": `system:serviceaccount:${ns}:${name}`,
      "impersonate-group": ["system:serviceaccounts", `system:serviceaccounts:${ns}`, "system:authenticated"],
    };
  });
}

interface Owned {
  namespace: string;
  resource: "secrets" | "configmaps";
  name: string;
  verbs: string[];
}

interface UnitRbac {
  unit: string;
  serviceAccount: { namespace: string; name: string };
  owned: Owned[];
}

/** Every namespace gets the environment's prefix, so the three environments live side by side. */
function relocate(objs: Obj[], env: string): Obj[] {
  const ns = (n: string | undefined) => `rbac-${env}-${n ?? "reseed"}`;
  return objs
    .filter((o) => ["ServiceAccount", "Role", "RoleBinding"].includes(o.kind))
    .map((o) => {
      const copy = structuredClone(o);
      copy.metadata.namespace = ns(o.metadata.namespace);
      if (copy.kind === "RoleBinding") {
        for (const s of copy.subjects as Array<{ namespace?: string }>) s.namespace = ns(s.namespace);
      }
      return copy;
    });
}

async function apply(objs: Obj[]): Promise<void> {
  for (const ns of new Set(objs.map((o) => o.metadata.namespace!))) await admin.namespace(ns);
  const client = jsonClient(kubeInfo.url, (o) => {
    o.agent = agent;
  });
  const path = (o: Obj) =>
    o.kind === "ServiceAccount"
      ? `/api/v1/namespaces/${o.metadata.namespace}/serviceaccounts`
      : `/apis/rbac.authorization.k8s.io/v1/namespaces/${o.metadata.namespace}/${o.kind === "Role" ? "roles" : "rolebindings"}`;
  for (const o of objs) {
    const res = await client.request("POST", path(o), o);
    if (res.status === 409) await client.json("PUT", `${path(o)}/${o.metadata.name}`, o);
    else if (res.status >= 300)
      throw new Error(
        `applying ${o.kind} ${o.metadata.namespace}/${o.metadata.name} answered ${res.status}: ${res.body}`,
      );
  }
}

function unitsOf(objs: Obj[]): UnitRbac[] {
  return objs
    .filter((o) => o.kind === "RoleBinding")
    .reduce<UnitRbac[]>((units, binding) => {
      const subject = (binding.subjects as Array<{ name: string; namespace: string }>)[0]!;
      const unit = binding.metadata.name.replace(/^reseed-/, "");
      let u = units.find((x) => x.unit === unit);
      if (!u)
        units.push((u = { unit, serviceAccount: { namespace: subject.namespace, name: subject.name }, owned: [] }));
      const role = objs.find(
        (o) =>
          o.kind === "Role" &&
          o.metadata.name === (binding.roleRef as { name: string }).name &&
          o.metadata.namespace === binding.metadata.namespace,
      )!;
      for (const r of z.array(rule).parse(role.rules)) {
        for (const resource of r.resources) {
          if (resource !== "secrets" && resource !== "configmaps") continue;
          for (const name of r.resourceNames ?? [])
            u.owned.push({ namespace: role.metadata.namespace!, resource, name, verbs: r.verbs });
        }
      }
      return units;
    }, []);
}

const envs = Object.keys(examples) as Array<keyof typeof examples>;
const rendered: Record<string, { objs: Obj[]; units: UnitRbac[] }> = {};

beforeAll(async () => {
  for (const env of envs) {
    const objs = relocate(render(examples[env]), env);
    await apply(objs);
    rendered[env] = { objs, units: unitsOf(objs) };
  }
});

describe.each(envs)("RBAC from the denied side: the %s example applied to the real API server", (env) => {
  it("every unit's ServiceAccount is refused what it does not own: other Secrets and ConfigMaps (get, list, watch), other units' objects (update, patch, delete), pods (create)", async () => {
    const { objs, units } = rendered[env]!;
    const namespaces = [...new Set(objs.map((o) => o.metadata.namespace!))];
    expect(units.length).toBeGreaterThan(0);
    const allowed: string[] = [];
    let probes = 0;
    for (const u of units) {
      const client = as(u.serviceAccount.namespace, u.serviceAccount.name);
      const owns = (ns: string, resource: string, name: string, verb: string) =>
        u.owned.some((o) => o.namespace === ns && o.resource === resource && o.name === name && o.verbs.includes(verb));
      const expectDenied = async (method: string, path: string, body?: unknown) => {
        probes++;
        const res = await client.request(method, path, body);
        if (res.status !== 403) allowed.push(`${u.unit}: ${method} ${path} answered ${res.status}`);
      };
      for (const ns of namespaces) {
        for (const resource of ["secrets", "configmaps"] as const) {
          const base = `/api/v1/namespaces/${ns}/${resource}`;
          await expectDenied("GET", base);
          await expectDenied("GET", `${base}?watch=true&timeoutSeconds=1`);
          await expectDenied("GET", `${base}/reseed-not-owned-by-anyone`);
          // Other units' objects: each one this unit does not itself own, with each verb.
          for (const other of units.filter((x) => x !== u)) {
            for (const o of other.owned.filter((x) => x.namespace === ns && x.resource === resource)) {
              for (const [verb, method] of [
                ["get", "GET"],
                ["update", "PUT"],
                ["patch", "PATCH"],
                ["delete", "DELETE"],
              ] as const) {
                if (owns(ns, resource, o.name, verb)) continue;
                await expectDenied(
                  method,
                  `${base}/${o.name}`,
                  method === "PUT" || method === "PATCH" ? { metadata: { name: o.name } } : undefined,
                );
              }
            }
          }
        }
        await expectDenied("POST", `/api/v1/namespaces/${ns}/pods`, {
          apiVersion: "v1",
          kind: "Pod",
          metadata: { name: "reseed-escape" },
          spec: { containers: [{ name: "c", image: "busybox" }] },
        });
      }
      // Teeth: what the unit owns is not refused (404 when the object is not there yet).
      for (const o of u.owned.filter((x) => x.verbs.includes("get"))) {
        const res = await client.request("GET", `/api/v1/namespaces/${o.namespace}/${o.resource}/${o.name}`);
        expect(res.status, `${u.unit} reading its own ${o.resource} ${o.namespace}/${o.name}`).toBe(404);
      }
    }
    expect(allowed).toEqual([]);
    expect(probes).toBeGreaterThan(units.length * namespaces.length * 7);
  });
});
