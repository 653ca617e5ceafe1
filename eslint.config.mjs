// ESLint for the whole tree: typescript-eslint's recommended rules, and the layer rule —
// each layer of steps/ imports only the layers below it:
//   core (spec, errors, redaction, logging, values)  <  inputs, probes, stores  <  kinds
//   <  runtime (phases, step runtime, evidence, outputs)  <  cli and the step mains.
// Every import inside steps/ is relative, so an upward import is one whose path climbs to
// steps/ and goes down into a higher layer's folder; the regex below names exactly that.
// And in every layer and main: product code imports no test code — not test/, and not the
// conformance cases kept beside each kind (steps/kinds/<kind>/conformance.ts), which are test
// code that imports test/ and is imported only by it; so the step bundles carry neither.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

const mains = ["cli", "validate-inputs", "wait-deps", "ensure-state", "verify"];
const layers = [
  { files: ["steps/core/**"], name: "core", above: ["inputs", "probes", "stores", "kinds", "runtime", ...mains] },
  {
    files: ["steps/inputs/**", "steps/probes/**", "steps/stores/**"],
    name: "inputs, probes and stores",
    above: ["kinds", "runtime", ...mains],
  },
  { files: ["steps/kinds/**"], name: "kinds", above: ["runtime", ...mains] },
  { files: ["steps/runtime/**"], name: "the step runtime", above: mains },
];

const upward = (layer) => ({
  regex: `^(\\.\\./)+(${layer.above.join("|")})(/|$)`,
  message: `${layer.name} must not import a layer above it (${layer.above.join(", ")}): move what both need down, or the code up.`,
});
const testCode = {
  regex: "^(\\.\\./)+test(/|$)|(^|/)conformance(\\.js)?$",
  message:
    "product code must not import test code (test/, or a kind's conformance.ts): the step bundles would carry it.",
};
// zod's `z` export is a namespace object that carries every locale: a bundle that imports it
// holds 454 KiB of zod where `import * as z` holds 85 KiB (the locales tree-shaken).
// (no-restricted-imports would refuse `import * as z` too, so the rule names the syntax.)
const zodNamespace = {
  selector: "ImportDeclaration[source.value='zod'] > ImportSpecifier[imported.name='z']",
  message: 'import * as z from "zod": the `z` export brings every locale into a bundle.',
};
// The product code takes zod from steps/core/zod.ts: zod/mini, whose schemas a step builds in
// half classic zod's time, with the English messages set (docs/figures.md).
const zodOfTheSteps = {
  selector: "ImportDeclaration[source.value=/^zod($|\\/)/]",
  message:
    'import * as z from "<…>/core/zod.js": the steps build their schemas with zod/mini, English messages set there.',
};
const restrict = (patterns) => ({ "no-restricted-imports": ["error", { patterns }] });
const kindsLayer = layers.find((l) => l.name === "kinds");

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "**/*.d.ts"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      // `_`-prefixed names are deliberately unused (a rest pattern that drops a key).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      // Errors are rewritten into values whose text went through the redactor; a raw `cause`
      // would carry the unmasked original (a server's answer) along, and nothing reads it.
      "preserve-caught-error": "off",
      // `let x = fallback; try { x = … }` keeps the fallback visible where x is declared.
      "no-useless-assignment": "off",
      "no-restricted-syntax": ["error", zodNamespace],
    },
  },
  {
    files: ["steps/**/*.ts"],
    ignores: ["steps/core/zod.ts"],
    rules: { "no-restricted-syntax": ["error", zodNamespace, zodOfTheSteps] },
  },
  ...layers.map((layer) => ({ files: layer.files, rules: restrict([upward(layer), testCode]) })),
  { files: mains.map((main) => `steps/${main}/**`), rules: restrict([testCode]) },
  // A kind's conformance cases are test code: they import test/conformance/ and test/harness/,
  // and nothing above the kinds layer.
  { files: ["steps/kinds/*/conformance.ts"], rules: restrict([upward(kindsLayer)]) },
);
