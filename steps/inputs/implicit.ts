import { access, constants, readFile } from "node:fs/promises";
import type { Resolution, ResolveEnv } from "./source.js";

/**
 * An input a unit does not declare but needs all the same: the auth material its kind or
 * stores read from the pod (AZURE_CLIENT_ID, a service-account token file, VAULT_TOKEN).
 * validate-inputs resolves these with the declared inputs and reports every missing one
 * in the same failure (C1), before anything is written; they are never published as facts.
 */
export interface ImplicitInput {
  /** Subject of a problem: "env AZURE_CLIENT_ID", "file /var/run/…/token" (never an identifier, so never a declared name). */
  name: string;
  /** How the pod gets it, appended to the problem. */
  why: string;
  secret: boolean;
  resolve(env: ResolveEnv): Promise<Resolution>;
}

export function envInput(variable: string, why: string, secret = false): ImplicitInput {
  return {
    name: `env ${variable}`,
    why,
    secret,
    resolve: async ({ env }) => {
      const value = env[variable];
      return value === undefined || value === ""
        ? { absent: `environment variable ${variable} is not set` }
        : { value };
    },
  };
}

export function fileInput(path: string, why: string, secret: boolean): ImplicitInput {
  return {
    name: `file ${path}`,
    why,
    secret,
    resolve: async () => {
      try {
        return { value: (await readFile(path, "utf8")).trim() };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        return {
          absent: `file ${path} ${code === "ENOENT" ? "does not exist (is the token volume mounted?)" : `cannot be read (${code ?? "error"})`}`,
        };
      }
    },
  };
}

/** An environment variable naming a file that must be readable, e.g. AZURE_FEDERATED_TOKEN_FILE. Resolves to the path. */
export function envFileInput(variable: string, why: string): ImplicitInput {
  return {
    name: `env ${variable}`,
    why,
    secret: false,
    resolve: async ({ env }) => {
      const path = env[variable];
      if (path === undefined || path === "") return { absent: `environment variable ${variable} is not set` };
      try {
        await access(path, constants.R_OK);
      } catch (err) {
        return {
          absent: `environment variable ${variable} names ${path}, which ${(err as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : "cannot be read"}`,
        };
      }
      return { value: path };
    },
  };
}

/** One entry per name: two stores needing AZURE_CLIENT_ID report it once. */
export function uniqueImplicit(inputs: ImplicitInput[]): ImplicitInput[] {
  return [...new Map(inputs.map((i) => [i.name, i])).values()];
}
