/**
 * What an apply result means for the work queue, for every step of a
 * reconcile that applies an object (reconcile.ts, reconcile-restore-test.ts).
 */
import type { ApplyResult } from '../apply/apply.js';
import type { Logger } from '../log.js';
import { CONFLICT_REQUEUE_MS } from './cleanup.js';
import type { ReconcileOutcome } from './queue.js';

/**
 * The outcome that stops the reconcile here, or undefined to go on: a 409
 * requeues soon (the cache is about to catch up); an object that is not
 * snapkeeper's is never overwritten, and nothing is retried until it goes.
 */
export function blocked(
  r: ApplyResult<unknown>,
  key: string,
  log: Logger,
): ReconcileOutcome | undefined {
  if (r.action === 'conflict') {
    log.debug('conflict, requeueing', { workload: key, message: r.message });
    return { requeueAfterMs: CONFLICT_REQUEUE_MS };
  }
  if (r.action === 'foreign') {
    // Not ours: never overwritten. Nothing to retry until it goes.
    log.warn(r.message, { workload: key });
    return { requeueAfterMs: -1 };
  }
  return undefined;
}
