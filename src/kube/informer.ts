import type { KubernetesObject } from '@kubernetes/client-node';
import { Backoff, type BackoffPolicy, type RandomFn } from '../backoff.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { ListWatchSource, WatchEvent } from './api.js';
import { isGone, statusCode } from './errors.js';

/** Sleeps `ms`, or less if the signal aborts. Injected so tests need not sleep. */
export type DelayFn = (ms: number, signal: AbortSignal) => Promise<void>;

export const realDelay: DelayFn = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export interface InformerHandlers<T> {
  add?(obj: T): void;
  update?(oldObj: T, newObj: T): void;
  delete?(obj: T): void;
}

export interface InformerOptions {
  log: Logger;
  delay?: DelayFn;
  /** Reconnect backoff (src/backoff.ts); default 500 ms doubling to 30 s, half of it jitter. */
  backoff?: BackoffPolicy;
  /** The jitter's random source (tests). */
  random?: RandomFn;
}

export const DEFAULT_RECONNECT_BACKOFF: BackoffPolicy = {
  initialMs: 500,
  maxMs: 30_000,
  jitter: 0.5,
};

/** Read access to an informer's cache. */
export interface ObjectStore<T> {
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): T[];
}

const keyOf = (obj: KubernetesObject) =>
  `${obj.metadata?.namespace ?? ''}/${obj.metadata?.name ?? ''}`;

/**
 * A list + watch cache of one resource, in the manner of client-go's
 * reflector: list, then watch from the list's resourceVersion; a clean close
 * of the watch re-watches from the last seen resourceVersion (bookmarks keep
 * it fresh); 410 Gone (too old) re-lists; any other failure reconnects with
 * exponential backoff with jitter (src/backoff.ts). A re-list diffs against
 * the cache, so handlers see deletions that happened while disconnected.
 * Periodic resync is the controller's job (it re-enqueues from this cache;
 * no API call).
 *
 * client-node's own ListWatch stops on the first error and has no backoff,
 * hence this class.
 */
export class Informer<T extends KubernetesObject> implements ObjectStore<T> {
  private readonly objects = new Map<string, T>();
  /** The same objects by namespace, so list(namespace) does not walk them all. */
  private readonly byNamespace = new Map<string, Map<string, T>>();
  private readonly handlers: InformerHandlers<T>[] = [];
  private resourceVersion = '';
  private readonly abort = new AbortController();
  private cancelWatch: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  private syncedFlag = false;
  private resolveSynced!: () => void;
  /** Resolves after the first successful list. */
  readonly synced: Promise<void> = new Promise((r) => (this.resolveSynced = r));
  private readonly delay: DelayFn;
  private readonly backoff: Backoff;

  constructor(
    readonly source: ListWatchSource<T>,
    private readonly options: InformerOptions,
  ) {
    this.delay = options.delay ?? realDelay;
    this.backoff = new Backoff(options.backoff ?? DEFAULT_RECONNECT_BACKOFF, options.random);
  }

  /** Adds handlers; the function returned removes them (a subscriber that stops before the informer). */
  on(handlers: InformerHandlers<T>): () => void {
    this.handlers.push(handlers);
    return () => {
      const i = this.handlers.indexOf(handlers);
      if (i >= 0) this.handlers.splice(i, 1);
    };
  }

  hasSynced(): boolean {
    return this.syncedFlag;
  }

  get(namespace: string, name: string): T | undefined {
    return this.objects.get(`${namespace}/${name}`);
  }

  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.objects.values()];
    return [...(this.byNamespace.get(namespace)?.values() ?? [])];
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.cancelWatch?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    const log = this.options.log;
    while (!this.abort.signal.aborted) {
      try {
        if (!this.resourceVersion) {
          const list = await this.source.list();
          this.replace(list.items);
          this.resourceVersion = list.resourceVersion;
          if (!this.syncedFlag) {
            this.syncedFlag = true;
            this.resolveSynced();
          }
        }
        const started = Date.now();
        const err = await this.watchOnce();
        if (this.abort.signal.aborted) break;
        if (err) throw err;
        // A clean close (server timeout): re-watch at once, unless the server
        // keeps closing immediately, which counts as a failure.
        if (Date.now() - started < 1000) throw new Error('watch closed immediately');
        this.backoff.reset();
      } catch (err) {
        if (this.abort.signal.aborted) break;
        if (isGone(err)) {
          log.debug('watch expired (410 Gone), re-listing', { source: this.source.description });
          this.resourceVersion = '';
          continue;
        }
        const ms = this.backoff.next();
        log.warn('list/watch failed, retrying', {
          source: this.source.description,
          error: describeError(err),
          status: statusCode(err),
          retryInMs: ms,
        });
        await this.delay(ms, this.abort.signal);
      }
    }
  }

  /** One watch; resolves with null on a clean close, or the error. */
  private watchOnce(): Promise<unknown> {
    return new Promise((resolve) => {
      let settled = false;
      const signal = this.abort.signal;
      const finish = (err: unknown) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        this.cancelWatch?.();
        this.cancelWatch = undefined;
        resolve(err ?? null);
      };
      // stop() may come while the watch request is still being answered (no
      // cancel function yet): finish now; the watch is cancelled when it
      // arrives (below). Waiting for it would wait for the server's timeout.
      const onAbort = () => finish(null);
      const onEvent = (event: WatchEvent<T>) => {
        if (settled) return;
        if (event.type === 'ERROR') {
          // A Status object in the stream: 410 when our resourceVersion is too old.
          const code = statusCode(event.object) ?? 500;
          const message = (event.object as { message?: string }).message ?? 'watch error';
          finish(Object.assign(new Error(message), { statusCode: code }));
          return;
        }
        const rv = event.object.metadata?.resourceVersion;
        if (event.type === 'BOOKMARK') {
          if (rv) this.resourceVersion = rv;
          return;
        }
        this.apply(event.type, event.object);
        if (rv) this.resourceVersion = rv;
      };
      this.source
        .watch(this.resourceVersion, onEvent, finish)
        .then((cancel) => {
          if (settled) cancel();
          else this.cancelWatch = cancel;
        })
        .catch(finish);
      if (signal.aborted) finish(null);
      else signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T): void {
    const key = keyOf(obj);
    const old = this.objects.get(key);
    const ns = obj.metadata?.namespace ?? '';
    if (type === 'DELETED') {
      this.objects.delete(key);
      const inNs = this.byNamespace.get(ns);
      inNs?.delete(key);
      if (inNs?.size === 0) this.byNamespace.delete(ns);
      this.emit((h) => h.delete?.(obj));
      return;
    }
    this.objects.set(key, obj);
    let inNs = this.byNamespace.get(ns);
    if (!inNs) this.byNamespace.set(ns, (inNs = new Map()));
    inNs.set(key, obj);
    if (old) this.emit((h) => h.update?.(old, obj));
    else this.emit((h) => h.add?.(obj));
  }

  /** A (re-)list: replace the cache, telling handlers what changed. */
  private replace(items: T[]): void {
    const seen = new Set<string>();
    for (const obj of items) {
      const key = keyOf(obj);
      seen.add(key);
      const old = this.objects.get(key);
      if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) continue;
      this.apply(old ? 'MODIFIED' : 'ADDED', obj);
    }
    for (const [key, obj] of [...this.objects]) {
      if (!seen.has(key)) this.apply('DELETED', obj);
    }
  }

  private emit(fn: (h: InformerHandlers<T>) => void): void {
    // A copy: a handler may remove itself (or another) while this runs.
    for (const h of [...this.handlers]) {
      try {
        fn(h);
      } catch (err) {
        this.options.log.error('informer handler failed', {
          source: this.source.description,
          error: describeError(err),
        });
      }
    }
  }
}
