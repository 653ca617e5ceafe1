// Bundles each step program and the CLI into ESM under dist/, so the images carry no
// node_modules and no TypeScript toolchain at run time.
//
// The steps are split (esbuild's code splitting): dist/<step>.bundle.mjs holds what every unit
// needs, and each kind, loaded with a dynamic import() by the generated registry, is a chunk
// of its own under dist/chunks/ with the stores and clients only it uses, so a step's process
// parses and keeps only its unit's kind (a step starts sooner and uses less memory). The step images
// copy dist/chunks/ beside the bundle (steps/Dockerfile). The CLI, which loads every kind
// anyway and is the npm package's one file, stays one self-contained bundle.
//
// Each program is two files: dist/<name>.mjs, a few lines any Node can parse that refuse to
// start on a Node older than package.json's engines, then import dist/<name>.bundle.mjs.
// Without it an old Node fails while parsing the bundle, far from the cause (a TypeError
// and pages of minified source).
import { builtinModules } from "node:module";
import { chmod, readFile, rm, writeFile } from "node:fs/promises";
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

// Node's built-ins are loaded with require(), not an ES import. An ES import of a built-in
// reads every one of its exports, lazy getters included, and node:http's WebSocket getter
// loads Node's bundled undici: about 25 ms of a step's start on Node 24, to import what
// require() returns in 4 ms (docs/figures.md). The bundle's banner makes require().
// Some exist only with the prefix (node:test, node:sea): a bare `test` is an npm package.
const bare = builtinModules.filter((name) => !name.startsWith("_") && !name.startsWith("node:"));
const prefixed = [...bare, ...builtinModules.filter((name) => name.startsWith("node:")).map((name) => name.slice(5))];
const builtinsByRequire = {
  name: "builtins-by-require",
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(node:(${prefixed.join("|")})|(${bare.join("|")}))$`) }, (args) =>
      args.kind === "import-statement" || args.kind === "dynamic-import"
        ? { path: args.path.replace(/^node:/, ""), namespace: "builtin-by-require" }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: "builtin-by-require" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(`node:${args.path}`)});`,
      loader: "js",
    }));
  },
};

const common = {
  bundle: true,
  plugins: [builtinsByRequire],
  platform: "node",
  target: `node${minMajor}`,
  format: "esm",
  minify: true,
  legalComments: "linked",
  logLevel: "warning",
  // Some bundled CommonJS dependencies call require() for Node built-ins.
  banner: {
    js:
      'import { createRequire as __reseedCreateRequire } from "node:module"; ' +
      "const require = __reseedCreateRequire(import.meta.url);",
  },
};
const bundleEntries = (names) => Object.fromEntries(names.map((name) => [`${name}.bundle`, entries[name]]));
const steps = Object.keys(entries).filter((name) => name !== "reseed");

await rm("dist/chunks", { recursive: true, force: true });
await build({
  ...common,
  entryPoints: bundleEntries(steps),
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
});
await build({
  ...common,
  entryPoints: bundleEntries(["reseed"]),
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  // The hashbang makes dist/reseed.mjs the npm package's `bin` (Node skips it elsewhere).
  banner: { js: `#!/usr/bin/env node\n${common.banner.js}` },
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
