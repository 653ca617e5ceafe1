// Bounded retry with exponential backoff and full jitter. The contract wants internal retry
// loops to be the retry (P1: backoffLimit 0), so every loop here ends at a deadline.

export interface RetryOptions {
  deadline: number; // epoch ms
  initialDelayMs?: number;
  maxDelayMs?: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  onRetry?: (attempt: number, error: unknown, delayMs: number) => void;
}

export type RetryResult<T> =
  { ok: true; value: T; attempts: number } | { ok: false; lastError: unknown; attempts: number };

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function backoffDelay(attempt: number, initialMs: number, maxMs: number, random: () => number): number {
  const ceiling = Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
  return Math.max(1, Math.round(ceiling * random()));
}

export async function retryUntil<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<RetryResult<T>> {
  const now = opts.now ?? Date.now;
  const wait = opts.sleep ?? sleep;
  const random = opts.random ?? Math.random;
  const initial = opts.initialDelayMs ?? 500;
  const max = opts.maxDelayMs ?? 10_000;
  let lastError: unknown;
  for (let attempt = 1; ; attempt++) {
    try {
      return { ok: true, value: await fn(attempt), attempts: attempt };
    } catch (err) {
      lastError = err;
    }
    const remaining = opts.deadline - now();
    if (remaining <= 0) return { ok: false, lastError, attempts: attempt };
    const delay = Math.min(remaining, backoffDelay(attempt, initial, max, random));
    opts.onRetry?.(attempt, lastError, delay);
    await wait(delay);
  }
}
