// The steps' small Kubernetes client (steps/core/kube.ts, steps/core/kube-config.ts) against a
// local HTTP server that answers as the API server would: the paths and bodies it sends, what
// its errors carry, how it reads kubeconfigs. The real API server (TLS, client certificates,
// tokens, RBAC) is exercised by every integration test that runs a step; a hostile one, that
// quotes the step's token back in every encoding, by the last test here, through the steps.
import { once } from "node:events";
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { describeError, ExitCode } from "../../steps/core/errors.js";
import { loadKubeTarget } from "../../steps/core/kube-config.js";
import { connectKube, httpStatus, isNotFound } from "../../steps/core/kube.js";
import { canary, describeLeak, encodings, findLeaks } from "../conformance/leak-hunt.js";
import { allText, codes, runStepProcess } from "../harness/steps.js";
import { seedingUnit } from "../harness/units.js";

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}
const seen: Seen[] = [];
const SECRET_BODY = '{"kind":"Secret","data":{"password":"c2VjcmV0LWJvZHktY2FuYXJ5"}}';

const server = createServer(async (req: IncomingMessage, res) => {
  let body = "";
  for await (const chunk of req) body += chunk;
  seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body });
  const json = (status: number, doc: unknown) =>
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(doc));
  const url = req.url!;
  if (url === "/prefix/api/v1/namespaces/ns/secrets/present") return res.writeHead(200).end(SECRET_BODY);
  if (url === "/prefix/api/v1/namespaces/ns/secrets/missing")
    return json(404, { kind: "Status", message: 'secrets "missing" not found', reason: "NotFound", code: 404 });
  if (url === "/prefix/api/v1/namespaces/ns/secrets/conflict" && req.method === "PUT")
    return json(409, { kind: "Status", message: "the object has been modified", code: 409 });
  if (url === "/prefix/api/v1/namespaces/ns/secrets/not-json") return res.writeHead(200).end(`<html>${SECRET_BODY}`);
  if (url === "/prefix/apis/example.com/v1")
    return json(200, {
      resources: [
        { name: "widgets", kind: "Widget", namespaced: true },
        { name: "widgets/status", kind: "Widget", namespaced: true },
        { name: "gadgets", kind: "Gadget", namespaced: false },
      ],
    });
  if (url.startsWith("/prefix/apis/example.com/v1/")) return json(200, { kind: "Widget", metadata: { name: "w" } });
  return json(200, { items: [] });
});
let address = "";

beforeAll(async () => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

async function kubeconfig(user: Record<string, unknown>, extra: { namespace?: string; server?: string } = {}) {
  const dir = await mkdtemp(join(tmpdir(), "reseed-kube-client-"));
  const file = join(dir, "kubeconfig");
  await writeFile(
    file,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "c", cluster: { server: extra.server ?? `${address}/prefix` } }],
      users: [{ name: "u", user }],
      contexts: [
        { name: "x", context: { cluster: "c", user: "u", ...(extra.namespace ? { namespace: extra.namespace } : {}) } },
      ],
      "current-context": "x",
    }),
  );
  return { dir, file };
}

describe("the requests", () => {
  it("go to client-node's paths under the server's own prefix, with the token, selectors encoded", async () => {
    const { file } = await kubeconfig({ token: "literal-token" }, { namespace: "ctx-ns" });
    const kube = connectKube(file);
    seen.length = 0;
    expect(await kube.contextNamespace()).toBe("ctx-ns");
    await kube.core.readNamespacedSecret({ name: "present", namespace: "ns" });
    await kube.core.createNamespacedConfigMap({ namespace: "ns", body: { data: { a: "1" } } });
    await kube.core.replaceNamespacedConfigMap({ name: "cm", namespace: "ns", body: { data: { a: "2" } } });
    await kube.core.deleteNamespacedSecret({
      name: "gone",
      namespace: "ns",
      body: { preconditions: { resourceVersion: "7" } },
    });
    await kube.core.listNamespace({ labelSelector: "team in (a,b),!legacy" });
    await kube.core.listSecretForAllNamespaces({ fieldSelector: "metadata.name=pull" });
    await kube.events.createNamespacedEvent({ namespace: "ns", body: { reason: "R" } as never });
    expect(seen.map((s) => `${s.method} ${s.url} ${s.body}`)).toEqual([
      "GET /prefix/api/v1/namespaces/ns/secrets/present ",
      'POST /prefix/api/v1/namespaces/ns/configmaps {"data":{"a":"1"}}',
      'PUT /prefix/api/v1/namespaces/ns/configmaps/cm {"data":{"a":"2"}}',
      'DELETE /prefix/api/v1/namespaces/ns/secrets/gone {"preconditions":{"resourceVersion":"7"}}',
      "GET /prefix/api/v1/namespaces?labelSelector=team+in+%28a%2Cb%29%2C%21legacy ",
      "GET /prefix/api/v1/secrets?fieldSelector=metadata.name%3Dpull ",
      'POST /prefix/apis/events.k8s.io/v1/namespaces/ns/events {"reason":"R"}',
    ]);
    expect(new Set(seen.map((s) => s.authorization))).toEqual(new Set(["Bearer literal-token"]));
  });

  it("find a custom kind's plural and scope once per group version, as KubernetesObjectApi does", async () => {
    const { file } = await kubeconfig({});
    const kube = connectKube(file);
    seen.length = 0;
    const ref = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w", namespace: "ns" } };
    await kube.objects.read(ref);
    await kube.objects.read(ref);
    await kube.objects.read({ apiVersion: "example.com/v1", kind: "Gadget", metadata: { name: "g" } });
    expect(seen.map((s) => s.url)).toEqual([
      "/prefix/apis/example.com/v1",
      "/prefix/apis/example.com/v1/namespaces/ns/widgets/w",
      "/prefix/apis/example.com/v1/namespaces/ns/widgets/w",
      "/prefix/apis/example.com/v1/gadgets/g",
    ]);
    expect(seen.every((s) => s.authorization === undefined)).toBe(true);
    await expect(kube.objects.read({ ...ref, kind: "Sprocket" })).rejects.toThrow(
      "the API server serves no kind Sprocket in example.com/v1",
    );
  });

  it("read a token file at each request: the kubelet rotates a projected token", async () => {
    const { dir, file } = await kubeconfig({ tokenFile: "token" });
    await writeFile(join(dir, "token"), "first-token\n");
    const registered: string[] = [];
    const kube = connectKube(file, (c) => registered.push(c));
    seen.length = 0;
    await kube.core.listNamespace({});
    await writeFile(join(dir, "token"), "second-token\n");
    await kube.core.listNamespace({});
    expect(seen.map((s) => s.authorization)).toEqual(["Bearer first-token", "Bearer second-token"]);
    expect(registered).toEqual(["first-token", "second-token"]);
  });
});

describe("the errors", () => {
  it("carry the status as code and the Status message, never a body", async () => {
    const { file } = await kubeconfig({});
    const kube = connectKube(file);
    const missing = await kube.core.readNamespacedSecret({ name: "missing", namespace: "ns" }).catch((e: unknown) => e);
    expect(isNotFound(missing)).toBe(true);
    expect(describeError(missing)).toBe('HTTP 404: secrets "missing" not found');
    const conflict = await kube.core
      .replaceNamespacedSecret({ name: "conflict", namespace: "ns", body: { data: { k: "dmFsdWU=" } } })
      .catch((e: unknown) => e);
    expect(httpStatus(conflict)).toBe(409);
    expect(describeError(conflict)).toBe("HTTP 409: the object has been modified");
    const garbled = await kube.core
      .readNamespacedSecret({ name: "not-json", namespace: "ns" })
      .catch((e: unknown) => e);
    expect(describeError(garbled)).toBe("the Kubernetes API answered HTTP 200 with a body that is not JSON");
    expect(JSON.stringify(garbled)).not.toContain("c2VjcmV0");
  });

  it("name the network's cause: a refused connection", async () => {
    const { file } = await kubeconfig({}, { server: "http://127.0.0.1:1" });
    const err = await connectKube(file)
      .core.listNamespace({})
      .catch((e: unknown) => e);
    expect(describeError(err)).toBe("request to the Kubernetes API failed: connect ECONNREFUSED 127.0.0.1:1");
  });
});

describe("the kubeconfig", () => {
  it("hands what only client-node speaks to client-node: exec and auth-provider plugins, basic auth, a proxy", async () => {
    for (const [user, why] of [
      [{ exec: { command: "aws" } }, "the user's exec"],
      [{ "auth-provider": { name: "oidc" } }, "the user's auth-provider"],
      [{ username: "u", password: "p" }, "the user's username"],
      [{ as: "someone" }, "the user's as"],
    ] as const) {
      const { file } = await kubeconfig(user, { namespace: "n" });
      expect(await loadKubeTarget(file, {})).toEqual({ fullClient: why, namespace: "n" });
    }
  });

  it("reads paths relative to its own file, and KUBECONFIG's files merged, the first name winning", async () => {
    const dir = await mkdtemp(join(tmpdir(), "reseed-kube-merge-"));
    await mkdir(join(dir, "pki"));
    await writeFile(join(dir, "pki", "ca.crt"), "CA PEM");
    await writeFile(
      join(dir, "a.json"),
      JSON.stringify({
        clusters: [{ name: "c", cluster: { server: "https://a.example:6443", "certificate-authority": "pki/ca.crt" } }],
        "current-context": "x",
      }),
    );
    await writeFile(
      join(dir, "b.yaml"),
      [
        "clusters: [{name: c, cluster: {server: 'https://b.example:6443'}}]",
        "users: [{name: u, user: {token: from-b}}]",
        "contexts: [{name: x, context: {cluster: c, user: u, namespace: from-b}}]",
        "current-context: y",
      ].join("\n"),
    );
    const target = await loadKubeTarget(undefined, {
      KUBECONFIG: [join(dir, "a.json"), join(dir, "absent"), join(dir, "b.yaml")].join(":"),
    });
    expect(target).toEqual({
      server: "https://a.example:6443",
      ca: Buffer.from("CA PEM"),
      insecure: false,
      token: { value: "from-b" },
      namespace: "from-b",
    });
  });

  it("without one, in a pod, is the ServiceAccount; outside a pod, says what to give", async () => {
    const home = await mkdtemp(join(tmpdir(), "reseed-kube-home-"));
    await expect(loadKubeTarget(undefined, { HOME: home })).rejects.toThrow(
      "no kubeconfig (KUBECONFIG, ~/.kube/config) and not in a pod (KUBERNETES_SERVICE_HOST is not set): give --kubeconfig",
    );
  });
});

describe("a hostile API server that quotes the step's token back", () => {
  const token = canary(64);
  // Every encoding the leak hunt knows, in the Status message a 403 carries and in a 200 that is not JSON.
  const quoted = Object.values(encodings(`Bearer ${token}`)).join(" | ");
  const hostile = createServer((req, res) => {
    req.resume();
    if (req.method === "GET" && req.url?.includes("/secrets/"))
      return res.writeHead(200, { "content-type": "text/plain" }).end(`you sent ${quoted}`);
    res
      .writeHead(403, { "content-type": "application/json" })
      .end(JSON.stringify({ kind: "Status", code: 403, message: `forbidden: you sent ${quoted}` }));
  });
  let kubeconfigFile = "";
  beforeAll(async () => {
    hostile.listen(0, "127.0.0.1");
    await once(hostile, "listening");
    const port = (hostile.address() as AddressInfo).port;
    kubeconfigFile = (await kubeconfig({ token }, { server: `http://127.0.0.1:${port}` })).file;
  });
  afterAll(() => {
    hostile.closeAllConnections();
    hostile.close();
  });

  it("leaks it in no form from any step: stdout, stderr, outputs, termination message", async () => {
    const unit = seedingUnit("hostile", {
      kind: "generated-secret",
      with: { secret: { name: "s" }, keys: [{ name: "k" }] },
    });
    const opts = { kubeconfig: kubeconfigFile, namespace: "ns", workflow: { name: "hostile-1" } };
    // validate-inputs succeeds (its Event is refused, which it logs); ensure-state's read of the
    // Secret gets a 200 that is not JSON; verify's the same.
    const validated = await runStepProcess("validate-inputs", unit, opts);
    expect(validated.code, validated.stdout).toBe(0);
    const fingerprint = validated.outputs.fingerprint!;
    const runs = [
      validated,
      await runStepProcess("ensure-state", unit, { ...opts, fingerprint }),
      await runStepProcess("verify", unit, { ...opts, fingerprint }),
    ];
    expect(codes(runs)).toEqual([0, ExitCode.ensureFailed, ExitCode.verifyFailed]);
    // Every line stays JSON (a mask never cuts an escape), and the failure is named in the summary.
    const lines = runs.map((r) =>
      r.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    );
    const summary = lines[1]!.find((l) => l.event === "step.summary");
    expect(JSON.stringify(summary?.problems)).toContain(
      "the Kubernetes API answered HTTP 200 with a body that is not JSON",
    );
    expect(allText([validated])).toContain("HTTP 403: forbidden: you sent");
    const evidence = runs.flatMap((r) => [
      { where: `${r.phase} stdout`, text: r.stdout },
      { where: `${r.phase} stderr`, text: r.stderr },
      { where: `${r.phase} termination`, text: r.termination ?? "" },
      ...Object.entries(r.outputs).map(([name, text]) => ({ where: `${r.phase} output ${name}`, text })),
    ]);
    expect(findLeaks({ token }, evidence).map(describeLeak)).toEqual([]);
  });
});
