/**
 * Exponential backoff with jitter, the one retry delay of the operator: the
 * informer's list/watch reconnects (src/kube/informer.ts) and the work
 * queue's per-key retries (src/controller/queue.ts).
 *
 * The n-th consecutive failure waits d = min(maxMs, initialMs · 2^(n−1)),
 * less a random share of it: the delay is drawn from [d · (1 − jitter), d].
 * So a delay is never longer than plain doubling would make it, and the
 * watches of several replicas, or the keys that failed together when the
 * API server went away, do not all come back in the same millisecond.
 * `random` is injected so tests need neither sleeps nor luck.
 */

export interface BackoffPolicy {
  /** The first delay. */
  initialMs: number;
  /** No delay is longer. */
  maxMs: number;
  /** The share of each delay that is random, 0 to 1; 0 (the default) is plain doubling. */
  jitter?: number;
}

/** A number in [0, 1), as Math.random. */
export type RandomFn = () => number;

/** The delay before retry number `attempt` (1 for the first failure). */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: RandomFn = Math.random,
): number {
  // 2^1023 is the largest finite power: beyond, 0 · Infinity would be NaN.
  const exponent = Math.min(Math.max(attempt, 1) - 1, 1023);
  const d = Math.min(policy.maxMs, policy.initialMs * 2 ** exponent);
  const jitter = Math.min(Math.max(policy.jitter ?? 0, 0), 1);
  if (jitter === 0) return d;
  return Math.round(d - d * jitter * random());
}

/** One backoff sequence: each failure's delay grows until reset() (a success). */
export class Backoff {
  private attempts = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: RandomFn = Math.random,
  ) {}

  /** Consecutive failures so far. */
  get failures(): number {
    return this.attempts;
  }

  /** Counts a failure; returns how long to wait before the next try. */
  next(): number {
    this.attempts++;
    return backoffDelay(this.policy, this.attempts, this.random);
  }

  /** A success: the next failure waits initialMs (less its jitter) again. */
  reset(): void {
    this.attempts = 0;
  }
}
