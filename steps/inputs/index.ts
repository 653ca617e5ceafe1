import type { Problem } from "../core/errors.js";
import { placeholderReason } from "../core/placeholder.js";
import { MIN_SECRET_LENGTH, type Redactor } from "../core/redact.js";
import { describeRef, isSecretSource, type InputRef } from "../core/spec.js";
import { httpJsonSource } from "./http-json.js";
import { configMapKeySource, secretKeySource } from "./kubernetes.js";
import { envSource, fileSource, literalSource } from "./local.js";
import type { ImplicitInput } from "./implicit.js";
import type { InputSource, ResolvedInputs, ResolveEnv } from "./source.js";
import { keyVaultSource } from "./key-vault.js";
import { vaultSource } from "./vault.js";

export type { ResolveEnv } from "./source.js";
export type { ImplicitInput } from "./implicit.js";

// One entry per input source; a new source is one module and one line here.
const sources: InputSource<never>[] = [
  secretKeySource,
  configMapKeySource,
  envSource,
  fileSource,
  httpJsonSource,
  literalSource,
  vaultSource,
  keyVaultSource,
];

/** The auth material input sources read from the pod (Vault login, workload identity), reported like declared inputs. */
export function implicitInputsOfRefs(refs: InputRef[]): ImplicitInput[] {
  return refs.flatMap((ref) => sourceFor(ref).implicitInputs?.(ref) ?? []);
}

function sourceFor(ref: InputRef): InputSource<InputRef> {
  const source = sources.find((s) => s.key in ref);
  if (!source) throw new Error(`no input source for ${JSON.stringify(Object.keys(ref))}`);
  return source as InputSource<InputRef>;
}

export interface InputResolution {
  inputs: ResolvedInputs;
  problems: Problem[];
  /** Subjects of the problems that are a refusal (HTTP 403): the unit's Role, not the input, is wrong. */
  forbidden: string[];
  /** Non-secret values, safe to publish as the `facts` output parameter. */
  facts: Record<string, string>;
}

/**
 * Resolves every declared input concurrently and reports every problem at once (C1), so an
 * operator fixes them in one round. Secret values are registered with the redactor the
 * moment they are read, before any check can mention them.
 */
export async function resolveInputs(
  declared: Record<string, InputRef>,
  opts: { env: ResolveEnv; redactor: Redactor; managed: boolean; implicit?: ImplicitInput[] },
): Promise<InputResolution> {
  const values = new Map<string, string>();
  const secret = new Set<string>();
  const problems: Problem[] = [];
  const forbidden: string[] = [];
  const facts: Record<string, string> = {};

  await Promise.all(
    Object.entries(declared).map(async ([name, ref]) => {
      const where = describeRef(ref, opts.env.namespace);
      const isSecret = isSecretSource(ref);
      let result;
      try {
        result = await sourceFor(ref).resolve(ref, opts.env);
      } catch (err) {
        result = { absent: `could not be resolved: ${err instanceof Error ? err.message : String(err)}` };
      }
      if ("absent" in result) {
        if (ref.optional) return;
        problems.push({ subject: name, message: `${where} ${result.absent}` });
        if (result.forbidden) forbidden.push(name);
        return;
      }
      const value = result.value;
      if (isSecret) {
        opts.redactor.register(value);
        secret.add(name);
      }
      const problem = checkValue(value, isSecret, opts.managed);
      if (problem) {
        problems.push({ subject: name, message: `${where} ${problem}` });
        return;
      }
      values.set(name, value);
      if (!isSecret) facts[name] = value;
    }),
  );
  await Promise.all(
    (opts.implicit ?? []).map(async (input) => {
      let result;
      try {
        result = await input.resolve(opts.env);
      } catch (err) {
        result = { absent: `could not be resolved: ${err instanceof Error ? err.message : String(err)}` };
      }
      if ("absent" in result) {
        problems.push({ subject: input.name, message: `${result.absent} (${input.why})` });
        return;
      }
      if (input.secret) {
        opts.redactor.register(result.value);
        secret.add(input.name);
      }
      const problem = checkValue(result.value, input.secret, opts.managed);
      if (problem) problems.push({ subject: input.name, message: `${problem} (${input.why})` });
      else values.set(input.name, result.value);
    }),
  );

  // A non-secret value that carries a secret (a server that echoed the request's
  // Authorization header into the field read, an env var holding a token) would be
  // published in clear: as the facts output, into a ConfigMap. Checked once every secret of
  // this run is registered, since the inputs resolved concurrently. A whole form counts, not
  // a shared run: a non-secret admin address shares "@corp.internal" with a secret one.
  for (const [name, ref] of Object.entries(declared)) {
    const value = values.get(name);
    if (value === undefined || secret.has(name) || !opts.redactor.holdsWhole(value)) continue;
    values.delete(name);
    delete facts[name];
    problems.push({
      subject: name,
      message: `${describeRef(ref, opts.env.namespace)} holds secret material (a credential this step uses); a non-secret input is published, so it is refused`,
    });
  }
  problems.sort((a, b) => a.subject.localeCompare(b.subject));
  return {
    problems,
    forbidden: forbidden.sort(),
    facts: Object.fromEntries(Object.entries(facts).sort(([a], [b]) => a.localeCompare(b))),
    inputs: { get: (name) => values.get(name), isSecret: (name) => secret.has(name) },
  };
}

function checkValue(value: string, isSecret: boolean, managed: boolean): string | undefined {
  if (value.trim() === "") return "is empty";
  if (isSecret && value.length < MIN_SECRET_LENGTH) {
    return `is shorter than ${MIN_SECRET_LENGTH} characters, too short to be a secret (and to be masked in logs)`;
  }
  if (managed) {
    const reason = placeholderReason(value);
    if (reason) return `${reason}; managed environments take no placeholders (C1)`;
  }
  return undefined;
}
