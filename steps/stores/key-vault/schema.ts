import { z } from "zod";

export const keyVaultUrl = z
  .url()
  .refine((u) => u.startsWith("https://"), "must be an https:// Key Vault URL")
  .describe("The vault URL, e.g. https://kv-platform.vault.azure.net.");

/** Key Vault secret names: 1–127 letters, digits and dashes. */
export const keyVaultName = /^[0-9a-zA-Z-]{1,127}$/;
