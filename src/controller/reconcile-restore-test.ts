/**
 * The restore-test step of a reconcile: once a workload's backup CronJob is
 * in place (reconcile.ts), its restore-test CronJob is made, kept or removed.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { BackupSpec } from '../annotations/index.js';
import { applyObject, deleteOwned } from '../apply/apply.js';
import type { OperatorConfig } from '../config/operator.js';
import { desiredRestoreTestCronJob, restoreTestObjectName } from '../desired/restore-test.js';
import type { KubeApi, V1PartialObjectMetadata } from '../kube/api.js';
import type { ObjectStore } from '../kube/informer.js';
import { isRestoreTestObject } from '../labels.js';
import type { Logger } from '../log.js';
import type { WorkloadRef } from '../workload.js';
import { blocked } from './apply-outcome.js';
import { CONFLICT_REQUEUE_MS, type Tombstones } from './cleanup.js';
import { EventReasons, type EventRecorder } from './events.js';
import type { ReconcileOutcome } from './queue.js';

/** What the restore-test step reads and writes: a part of the reconcile's dependencies (reconcile.ts). */
export interface RestoreTestDeps {
  config: OperatorConfig;
  api: Pick<KubeApi, 'cronJobs'>;
  /** Owned CronJobs, metadata only. */
  cronJobs: ObjectStore<V1PartialObjectMetadata>;
  events: EventRecorder;
  log: Logger;
  deleted: Tombstones;
}

/**
 * The workload's restore-test CronJob, once its backup CronJob is in place:
 *
 *   no restore-test annotation            → its restore-test CronJob (only) goes
 *   encrypted backups, no identity set    → RestoreTestNoIdentity; no restore-test CronJob
 *   otherwise                             → apply; RestoreTestScheduled on change
 *
 * An invalid restore-test annotation never gets here (the whole set is
 * invalid, and reconcileWorkload leaves both CronJobs as they are).
 */
export async function reconcileRestoreTest(
  key: string,
  w: WorkloadRef,
  spec: BackupSpec,
  pod: V1Pod,
  podRef: string,
  d: RestoreTestDeps,
): Promise<ReconcileOutcome> {
  const { config, log } = d;
  const ns = config.controlNamespace;
  const name = restoreTestObjectName(w);
  const cached = d.cronJobs.get(ns, name);
  const existing =
    cached && !d.deleted.has(cached.metadata?.uid) && !cached.metadata?.deletionTimestamp
      ? cached
      : undefined;
  const rt = spec.restoreTest;

  const remove = async (why: string): Promise<ReconcileOutcome> => {
    // Only a CronJob that is snapkeeper's restore test is ever deleted here.
    if (!existing || !isRestoreTestObject(existing)) return;
    const r = await deleteOwned(d.api.cronJobs, existing, 'Background');
    if (r === 'deleted') {
      d.deleted.add(existing.metadata?.uid);
      log.info(`restore-test CronJob deleted: ${why}`, { workload: key, cronJob: `${ns}/${name}` });
    }
    return r === 'conflict' ? { requeueAfterMs: CONFLICT_REQUEUE_MS } : undefined;
  };

  if (!rt) return remove('restore-test annotation removed');
  if (spec.recipients.length > 0 && config.restoreTest.identitySecret === undefined) {
    await d.events.record(
      pod,
      'Warning',
      EventReasons.RestoreTestNoIdentity,
      `restore test of ${w.kind} ${w.name} not scheduled: its backups are encrypted and the operator ` +
        `has no age identity to open them; set the chart value restoreTest.identitySecret ` +
        `(name and key of a Secret in namespace ${ns} holding an age identity file)`,
    );
    return remove('encrypted backups and no restoreTest.identitySecret');
  }

  const desired = desiredRestoreTestCronJob({
    workload: w,
    spec: { ...spec, restoreTest: rt },
    config,
    sourcePod: podRef,
  });
  const result = await applyObject(d.api.cronJobs, desired, existing);
  const stop = blocked(result, key, log);
  if (stop) return stop;
  if (result.action === 'created' || result.action === 'updated') {
    log.info(`restore-test CronJob ${result.action}`, {
      workload: key,
      cronJob: `${ns}/${desired.metadata?.name}`,
    });
    await d.events.record(
      pod,
      'Normal',
      EventReasons.RestoreTestScheduled,
      `restore test of ${w.kind} ${w.name} (${spec.type}) scheduled "${rt.schedule}" ${spec.timezone}` +
        `${rt.checks.length > 0 ? ` with ${rt.checks.length} check${rt.checks.length === 1 ? '' : 's'}` : ''}` +
        `${spec.suspend ? ' (suspended)' : ''} as CronJob ${ns}/${desired.metadata?.name}`,
    );
  }
  return;
}
