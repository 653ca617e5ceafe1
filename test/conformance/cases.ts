import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Admin } from "../harness/kube-admin.js";

// The shape of a conformance case, and where the suite finds each kind's: the file
// steps/kinds/<kind>/conformance.ts, beside the kind itself, so adding a kind touches only its
// folder. Those files are test code: nothing under steps/ imports them (eslint.config.mjs),
// so the step bundles never carry them.

/**
 * Counts writes at an authority other than the Kubernetes API (Vault's audit device,
 * Keycloak admin events, PostgreSQL statement counts, a loopback proxy in front of a
 * service): never counted by the code under test.
 */
export interface WriteCounter {
  mark(): Promise<number>;
  /** Human-readable descriptions of the writes since the mark, e.g. "PUT secret/data/app". */
  since(mark: number): Promise<string[]>;
  /**
   * Why this counter does not count one write per object changed, when it does not (it counts
   * SQL statements, or a sign-in and sign-out around the writes). Without it the suite holds
   * the step's recorded changes to the exact number of writes counted at the servers.
   */
  notOnePerChange?: string;
}

export interface ConformanceCase {
  /** Tells apart several cases of one kind, e.g. the store it writes to. */
  name?: string;
  /** Starts or reaches the external servers the kind needs (once per test file). */
  servers?(): Promise<void>;
  /** Stops what servers() started (after the file's last test). */
  stopServers?(): Promise<void>;
  /** Environment for the step processes: server addresses, CA bundles (never secret values). */
  stepEnv?(ns: string): Record<string, string>;
  /** Writes at the authority the kind writes to, when that is not the Kubernetes API. */
  authorityWrites?: WriteCounter;
  /** pattern, inputs and ensure of the unit; the suite adds a canary secret input. */
  spec(ns: string): {
    pattern: string;
    inputs: Record<string, unknown>;
    dependencies?: unknown[];
    ensure: { kind: string; with: Record<string, unknown> };
  };
  /** Puts the unit's inputs in place; safe to call again (each test sets up what it needs). */
  setup(admin: Admin, ns: string): Promise<void>;
  /** How to take away each required input of the kind's own (the canary is handled by the suite). */
  removeInput: Record<string, (admin: Admin, ns: string) => Promise<void>>;
  /** Loses the seeded state the way a cluster recreate or a DB reset would; a no-op when it is gone. */
  deleteState(admin: Admin, ns: string): Promise<void>;
  /** P3 only: the operator, not reseed, restores its resource; the test plays the operator. Safe to call again. */
  operatorRestores?(admin: Admin, ns: string): Promise<void>;
  /**
   * Fan-out only: makes one more target match (a namespace, a ServiceAccount) and returns the
   * writes the next run must make for it, and nothing else, as writesSince words them.
   */
  addTarget?(admin: Admin, ns: string): Promise<string[]>;
  /** Secret values the kind itself wrote, which must appear in no log, output or event. */
  writtenSecrets(admin: Admin, ns: string): Promise<string[]>;
}

/** The unit spec most cases run: a reconciler unit of `kind` with these settings and inputs. */
export const reconciler = (kind: string, settings: Record<string, unknown>, inputs: Record<string, unknown> = {}) => ({
  pattern: "reconciler",
  inputs,
  ensure: { kind, with: settings },
});

const kindsDir = fileURLToPath(new URL("../../steps/kinds/", import.meta.url));

/**
 * The cases of `kind`: what its folder's conformance.ts exports as `conformance`, one case or
 * several (one per store). A kind without that file or export gets a single undefined, which
 * the suite fails. `dir` is another folder of kinds (test/unit/add-a-kind.test.ts).
 */
export async function casesOf(kind: string, dir = kindsDir): Promise<(ConformanceCase | undefined)[]> {
  const file = path.join(dir, kind, "conformance.ts");
  if (!existsSync(file)) return [undefined];
  const { conformance } = (await import(file)) as { conformance?: ConformanceCase | ConformanceCase[] };
  return conformance === undefined ? [undefined] : [conformance].flat();
}
