import { httpsUrl } from "../../core/url.js";

export const keyVaultUrl = httpsUrl.describe("The vault URL, e.g. https://kv-platform.vault.azure.net.");

/** Key Vault secret names: 1–127 letters, digits and dashes. */
export const keyVaultName = /^[0-9a-zA-Z-]{1,127}$/;
