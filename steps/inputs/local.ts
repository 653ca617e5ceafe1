import { readFile } from "node:fs/promises";
import type { InputRef } from "../core/spec.js";
import type { InputSource } from "./source.js";

export const envSource: InputSource<Extract<InputRef, { env: string }>> = {
  key: "env",
  resolve: async ({ env: name }, { env }) => {
    const value = env[name];
    return value === undefined ? { absent: "is not set" } : { value };
  },
};

export const fileSource: InputSource<Extract<InputRef, { file: string }>> = {
  key: "file",
  resolve: async ({ file }) => {
    try {
      return { value: (await readFile(file, "utf8")).replace(/\r?\n$/, "") };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return {
        absent: code === "ENOENT" ? "does not exist (is the volume mounted?)" : `cannot be read (${code ?? "error"})`,
      };
    }
  },
};

export const literalSource: InputSource<Extract<InputRef, { value: string }>> = {
  key: "value",
  resolve: async ({ value }) => ({ value }),
};
