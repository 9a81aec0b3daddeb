/**
 * Finding missed runs, the status controller's second job: a backup
 * CronJob whose schedule came due without a success within the grace is
 * missed. The snapkeeper_backup_missed gauge says so for every backup
 * CronJob, and a BackupMissed Warning goes to the source pod once per
 * distinct message. Restore tests are never missed: their age has its own
 * alert.
 */
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import type { CachedCronJob } from '../controller/caches.js';
import { describeError } from '../errors.js';
import type { ObjectStore } from '../kube/informer.js';
import { isRestoreTestObject } from '../labels.js';
import type { Logger } from '../log.js';
import { readStatus } from './annotations.js';
import type { StatusEventSink } from './deps.js';
import { StatusEventReasons } from './record.js';
import { missedSince } from './schedule.js';
import { isManaged, workloadOf, type BackupMetrics } from './workload.js';

export interface MissedRunsDeps {
  namespace: string;
  /** The operator's CronJob cache: schedule, timeZone, suspend, the status record. */
  cronJobs: ObjectStore<CachedCronJob>;
  /** Each CronJob as the Job recorder last patched it (newer than the cache, maybe). */
  latest: ReadonlyMap<string, KubernetesObject>;
  metrics: Pick<BackupMetrics, 'backupMissed'>;
  events: StatusEventSink;
  /** The pod a CronJob's Events go to (undefined: no Event). */
  sourcePod(cj: KubernetesObject): Promise<V1Pod | undefined>;
  log: Logger;
  /** A schedule with no success for its period plus this grace is missed. */
  graceSeconds: number;
  now: () => Date;
}

export interface MissedRuns {
  /** Judges every cached CronJob now. */
  checkAll(): Promise<void>;
  /** Judges one CronJob at time `t` (a new or changed one: at once, not at the next tick). */
  check(cj: CachedCronJob, t: Date): Promise<void>;
}

export function missedRuns(d: MissedRunsDeps): MissedRuns {
  const { metrics, events, log, latest } = d;
  /** The message last reported per CronJob (by uid), so each is reported once. */
  const reported = new Map<string, string>();

  async function checkAll(): Promise<void> {
    const t = d.now();
    for (const cj of d.cronJobs.list(d.namespace)) await check(cj, t);
  }

  async function check(cj: CachedCronJob, t: Date): Promise<void> {
    const w = workloadOf(cj);
    // Only backups can be missed; a restore test's age has its own alert.
    if (!w || !isManaged(cj) || isRestoreTestObject(cj)) return;
    const labels = { namespace: w.namespace, workload: w.name, type: w.type };
    const status = readStatus(cj.metadata?.annotations);
    const mine = readStatus(latest.get(cj.metadata?.name ?? '')?.metadata?.annotations);
    if (mine.lastSuccess && mine.lastSuccess > (status.lastSuccess ?? new Date(0))) {
      status.lastSuccess = mine.lastSuccess;
    }
    const created = cj.metadata?.creationTimestamp
      ? new Date(cj.metadata.creationTimestamp)
      : undefined;
    const due =
      cj.spec?.suspend || !cj.spec?.schedule
        ? undefined
        : missedSince(
            cj.spec.schedule,
            cj.spec.timeZone,
            status.lastSuccess,
            t,
            d.graceSeconds,
            created,
          );
    metrics.backupMissed.set(labels, due ? 1 : 0);
    const key = cj.metadata?.uid ?? cj.metadata?.name ?? '';
    if (!due) {
      reported.delete(key);
      return;
    }
    const message =
      `no successful backup of ${w.namespace}/${w.name} since ` +
      `${status.lastSuccess ? status.lastSuccess.toISOString() : 'it was scheduled'}: ` +
      `the run due at ${due.toISOString()} has not succeeded within ${d.graceSeconds}s`;
    if (reported.get(key) === message) return;
    try {
      const pod = await d.sourcePod(cj);
      if (pod) await events.record(pod, 'Warning', StatusEventReasons.BackupMissed, message);
      reported.set(key, message);
      log.warn('backup missed', { workload: `${w.namespace}/${w.name}`, due: due.toISOString() });
    } catch (err) {
      log.warn('cannot report missed backup', {
        cronjob: cj.metadata?.name,
        error: describeError(err),
      });
    }
  }

  return { checkAll, check };
}
