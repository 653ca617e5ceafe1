// Bundles each step program and the CLI into one self-contained ESM file under dist/, so the
// images carry no node_modules and no TypeScript toolchain at run time.
import { build } from "esbuild";

const entries = {
  "validate-inputs": "steps/validate-inputs/main.ts",
  "wait-deps": "steps/wait-deps/main.ts",
  "ensure-state": "steps/ensure-state/main.ts",
  verify: "steps/verify/main.ts",
  reseed: "steps/cli/main.ts",
};

await build({
  entryPoints: entries,
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  bundle: true,
  platform: "node",
  target: "node24",
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
