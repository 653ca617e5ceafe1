// Bundles each step program and the CLI into one self-contained ESM file under dist/, so the
// images carry no node_modules and no TypeScript toolchain at run time.
//
// Each program is two files: dist/<name>.mjs, a few lines any Node can parse that refuse to
// start on a Node older than package.json's engines, then import dist/<name>.bundle.mjs.
// Without it an old Node fails while parsing the bundle, far from the cause (a TypeError
// and pages of minified source).
import { chmod, readFile, writeFile } from "node:fs/promises";
import { build } from "esbuild";

const entries = {
  "validate-inputs": "steps/validate-inputs/main.ts",
  "wait-deps": "steps/wait-deps/main.ts",
  "ensure-state": "steps/ensure-state/main.ts",
  verify: "steps/verify/main.ts",
  reseed: "steps/cli/main.ts",
};

// package.json's engines (">=24") is the one place the required version is written.
const engines = JSON.parse(await readFile("package.json", "utf8")).engines.node;
const minMajor = Number(/^>=\s*(\d+)/.exec(engines)?.[1]);
if (!minMajor) throw new Error(`package.json engines.node must read ">=<major>", found ${JSON.stringify(engines)}`);

await build({
  entryPoints: Object.fromEntries(Object.entries(entries).map(([name, src]) => [`${name}.bundle`, src])),
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  target: `node${minMajor}`,
  format: "esm",
  minify: true,
  legalComments: "linked",
  metafile: false,
  logLevel: "warning",
  // The hashbang makes dist/reseed.mjs the npm package's `bin` (Node skips it elsewhere).
  // Some bundled CommonJS dependencies call require() for Node built-ins.
  banner: {
    js: '#!/usr/bin/env node\nimport { createRequire as __reseedCreateRequire } from "node:module"; const require = __reseedCreateRequire(import.meta.url);',
  },
});

// ES5-level syntax on purpose: this file must parse on any Node that can load an ES module.
for (const name of Object.keys(entries)) {
  await writeFile(
    `dist/${name}.mjs`,
    `${name === "reseed" ? "#!/usr/bin/env node\n" : ""}// ${name}: checks the Node version before the bundle is parsed (see steps/build.mjs).
var major = Number(process.versions.node.split(".")[0]);
if (major < ${minMajor}) {
  process.stderr.write("${name}: needs Node.js ${minMajor} or newer (this is Node.js " + process.versions.node + ")\\n");
  process.exit(1);
}
await import("./${name}.bundle.mjs");
`,
  );
  await chmod(`dist/${name}.mjs`, 0o755);
}
