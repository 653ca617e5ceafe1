// The bad-input corpus: one small file per mistake a platform engineer plausibly makes, in
// unit documents and chart values files, each naming in its header what must happen:
//   # exit: 10                         reseed lint's (and reseed run's) exit code
//   # path: units.web.schedule         the field path, as written in the file
//   # message: is not a cron schedule  a fragment of the message at that path
//   # helm: rejects | accepts (why)    values files only: what `helm template` (real helm) does
//   # also: support/x.yaml             another file given before this one (cross-file cases)
// Every case is also given to `reseed run` against a real kube-apiserver (started here, with
// its audit log): same exit code, and not one write reaches the server.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN_USER } from "../harness/kube.js";
import { startKubeServer, type KubeServer } from "../harness/kube-server.js";
import { template } from "../harness/helm.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const casesDir = path.join(root, "test/corpus/cases");
const cli = path.join(root, "dist/reseed.mjs");

interface Case {
  name: string;
  file: string;
  files: string[];
  exit: number;
  path?: string;
  message?: string;
  helm?: "rejects" | "accepts";
  values: boolean;
}

function readCase(name: string): Case {
  const file = path.join(casesDir, name);
  const text = readFileSync(file, "utf8");
  const header = Object.fromEntries(
    text.split("\n").flatMap((line) => {
      const m = /^# (exit|path|message|helm|also): (.*)$/.exec(line);
      return m ? [[m[1]!, m[2]!]] : [];
    }),
  );
  if (header.exit === undefined) throw new Error(`${name}: no "# exit:" line`);
  const values = /^units:|^defaults:|^image:|^unit:/m.test(text);
  if (values && !header.helm) throw new Error(`${name}: a values file needs a "# helm:" line`);
  return {
    name,
    file,
    files: [...(header.also ? [path.join(casesDir, header.also)] : []), file],
    exit: Number(header.exit),
    path: header.path,
    message: header.message,
    helm: header.helm?.split(" ")[0] as Case["helm"],
    values,
  };
}

const cases = readdirSync(casesDir)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map(readCase);

function reseed(args: string[]) {
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`make build\` (make test does)`);
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: "utf8" });
  if (r.error) throw r.error;
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe("the bad-input corpus", () => {
  it("has at least 60 cases, units and values files both", () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
    expect(cases.filter((c) => c.values).length).toBeGreaterThanOrEqual(20);
    expect(cases.filter((c) => !c.values).length).toBeGreaterThanOrEqual(20);
  });

  describe.each(cases)("$name", (c) => {
    // A case that must pass (exit 0) has no field to name; every other one names its field.
    if (c.exit === 0) {
      it("reseed lint accepts it, reporting no problem", () => {
        const r = reseed(["lint", ...c.files]);
        expect(r.code, r.out + r.err).toBe(0);
        expect(r.out).not.toMatch(/: (?!ok \()/);
      });
      return;
    }
    it("reseed lint exits as expected, naming the field and what is wrong", () => {
      const r = reseed(["lint", ...c.files]);
      expect(r.code, r.out + r.err).toBe(c.exit);
      const lines = r.out.split("\n").filter((l) => l.startsWith(`${c.file}: ${c.path}: `));
      expect(lines.length, `no problem at ${c.path} in:\n${r.out}`).toBeGreaterThan(0);
      expect(lines.join("\n")).toContain(c.message);
    });
  });

  // Unit documents are not chart input; values files are, and helm must agree on each.
  it.each(cases.filter((c) => c.values))("$name: helm template agrees", (c) => {
    const r = template([c.file]);
    expect(r.ok, r.err).toBe(c.helm === "accepts");
  });
});

describe("reseed run on every case, against a real kube-apiserver", () => {
  let kube: KubeServer;
  beforeAll(async () => {
    kube = await startKubeServer();
  }, 120_000);
  afterAll(async () => {
    await kube?.stop();
  });

  it.each(cases)("$name: the same exit code, and zero writes counted in the audit log", async (c) => {
    const mark = await kube.auditMark();
    const r = reseed(["run", ...c.files, "--kubeconfig", kube.adminKubeconfig, "--namespace", "corpus"]);
    expect(r.code, r.out + r.err).toBe(c.exit);
    // `reseed run` acts as the admin of the kubeconfig it is given; the API server's own
    // controllers write on their own schedule and are not counted.
    expect(await kube.writesSince(mark, { user: ADMIN_USER })).toEqual([]);
  });
});
