import { expect } from "vitest";
import { ExitCode, SeedError } from "../../steps/core/errors.js";
import { loadUnit } from "../../steps/runtime/unit.js";
import { loadKinds } from "../../steps/kinds/kind.js";
import { kinds } from "../../steps/kinds/registry.js";

const registry = await loadKinds(kinds);

/** Every problem loadUnit reports for a document, as "subject: message"; none when it loads. */
export function problemsOf(doc: unknown): string[] {
  try {
    loadUnit(doc, registry);
  } catch (err) {
    expect(err).toBeInstanceOf(SeedError);
    expect((err as SeedError).code).toBe(ExitCode.invalidSpec);
    return (err as SeedError).problems.map((p) => `${p.subject}: ${p.message}`);
  }
  return [];
}
