// Unit documents from text, in a module of their own: a step imports the YAML parser only
// when its unit is not JSON (the WorkflowTemplate passes JSON), saving its load on every start.
import { parseAllDocuments } from "yaml";
import { invalidSpec } from "../core/errors.js";

/** Parses YAML or JSON text holding one or more unit documents. */
export function parseDocuments(text: string, source: string): unknown[] {
  const docs = parseAllDocuments(text);
  const out: unknown[] = [];
  for (const d of Array.isArray(docs) ? docs : [docs]) {
    if (d.errors.length)
      throw invalidSpec(d.errors.map((e) => ({ subject: source, message: e.message.split("\n", 1)[0]! })));
    const value: unknown = d.toJS();
    if (value !== null && value !== undefined) out.push(value);
  }
  return out;
}
