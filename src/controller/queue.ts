import { backoffDelay, type BackoffPolicy, type RandomFn } from '../backoff.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';

/** What a reconcile may ask for besides success: run again later. */
export type ReconcileOutcome = void | { requeueAfterMs: number };

export type Schedule = (fn: () => void, ms: number) => () => void;

export const realSchedule: Schedule = (fn, ms) => {
  const t = setTimeout(fn, ms);
  t.unref?.();
  return () => clearTimeout(t);
};

export const DEFAULT_RETRY_BACKOFF: BackoffPolicy = { initialMs: 250, maxMs: 60_000, jitter: 0.5 };

export interface WorkQueueOptions {
  log: Logger;
  /** Keys reconciled at the same time (never the same key twice at once). */
  concurrency?: number;
  /** Per-key failure backoff (src/backoff.ts); default 250 ms doubling to 60 s, half of it jitter. */
  backoff?: BackoffPolicy;
  schedule?: Schedule;
  /** The jitter's random source (tests). */
  random?: RandomFn;
  onError?: (key: string, err: unknown) => void;
}

/**
 * A work queue of keys in the manner of client-go's: a key queued twice is
 * queued once; a key is never processed by two workers at once (an add while
 * it is being processed marks it dirty, and it runs again afterwards); a key
 * whose handler throws is retried with its own exponential backoff (with
 * jitter, src/backoff.ts), so one failing workload never delays the others.
 * `pause()` stops taking new work (used while not the leader) without
 * forgetting what is queued.
 */
export class WorkQueue {
  private readonly queue = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Map<string, () => void>();
  private running = false;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];
  private readonly concurrency: number;
  private readonly backoff: BackoffPolicy;
  private readonly schedule: Schedule;

  constructor(
    private readonly handler: (key: string) => Promise<ReconcileOutcome>,
    private readonly options: WorkQueueOptions,
  ) {
    this.concurrency = options.concurrency ?? 4;
    this.backoff = options.backoff ?? DEFAULT_RETRY_BACKOFF;
    this.schedule = options.schedule ?? realSchedule;
  }

  /** Queue a key (no-op if already queued; re-run after if being processed). */
  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    this.queue.add(key);
    this.pump();
  }

  /** Queue a key after a delay; an earlier pending delay for it is replaced. */
  addAfter(key: string, ms: number): void {
    if (this.stopped) return;
    this.timers.get(key)?.();
    this.timers.set(
      key,
      this.schedule(() => {
        this.timers.delete(key);
        this.add(key);
      }, ms),
    );
  }

  /** Start (or resume) processing. */
  start(): void {
    this.running = true;
    this.pump();
  }

  /** Stop taking new keys; queued keys stay queued. */
  pause(): void {
    this.running = false;
  }

  /** Stop for good: drop pending delays, wait for in-flight handlers. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.running = false;
    for (const cancel of this.timers.values()) cancel();
    this.timers.clear();
    this.queue.clear();
    await this.drained();
  }

  get length(): number {
    return this.queue.size;
  }

  get inFlight(): number {
    return this.processing.size;
  }

  /** Consecutive failures of a key (0 once it succeeds). */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Resolves when nothing is being processed (and, if running, nothing queued). */
  drained(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private isIdle(): boolean {
    return this.processing.size === 0 && (!this.running || this.queue.size === 0);
  }

  private pump(): void {
    while (this.running && this.processing.size < this.concurrency) {
      const key = this.next();
      if (key === undefined) break;
      this.queue.delete(key);
      this.processing.add(key);
      void this.process(key);
    }
    if (this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private next(): string | undefined {
    for (const key of this.queue) return key;
    return undefined;
  }

  private async process(key: string): Promise<void> {
    let retryIn: number | undefined;
    try {
      const outcome = await this.handler(key);
      this.failures.delete(key);
      if (outcome && outcome.requeueAfterMs >= 0) retryIn = outcome.requeueAfterMs;
    } catch (err) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      retryIn = backoffDelay(this.backoff, n, this.options.random);
      this.options.onError?.(key, err);
      this.options.log.warn('reconcile failed, will retry', {
        key,
        error: describeError(err),
        attempt: n,
        retryInMs: retryIn,
      });
    } finally {
      this.processing.delete(key);
    }
    if (this.dirty.delete(key)) this.queue.add(key);
    else if (retryIn !== undefined) this.addAfter(key, retryIn);
    this.pump();
  }
}
