// One YAML document as data, in a module of its own: imported with import() by what reads
// YAML only sometimes (a kubeconfig that is not JSON), so that the yaml package is loaded
// then and only then. A static named import here also lets the bundler bridge yaml's
// CommonJS build, which a bare `import("yaml")` in a bundle does not.
export { parse as parseYaml } from "yaml";
