/**
 * Cleanup: a tracked workload that is gone loses its CronJobs and Secret
 * (reconcile.ts decides when to ask; this decides what goes, and when).
 */
import type { V1Job } from '@kubernetes/client-node';
import { isTracked } from '../annotations/index.js';
import { deleteOwned } from '../apply/apply.js';
import type { OperatorConfig } from '../config/operator.js';
import type { KubeApi, V1PartialObjectMetadata } from '../kube/api.js';
import type { ObjectStore } from '../kube/informer.js';
import type { Logger } from '../log.js';
import { jobOutcome } from '../status/result.js';
import { isOwnedBy, type WorkloadRef } from '../workload.js';
import { whyGone } from './presence.js';
import type { ReconcileOutcome } from './queue.js';

/** Requeue soon after a 409: our cache is about to catch up. */
export const CONFLICT_REQUEUE_MS = 500;
const UNRESOLVED_REQUEUE_MS = 1000;
/** How often a Secret kept for a running backup Job is looked at again. */
const RUNNING_JOB_REQUEUE_MS = 15_000;

/** What cleanup reads and writes: a part of the reconcile's dependencies (reconcile.ts). */
export interface CleanupDeps {
  config: Pick<OperatorConfig, 'controlNamespace' | 'cleanupRunningBackups'>;
  api: Pick<KubeApi, 'read' | 'cronJobs' | 'secrets'>;
  cronJobs: ObjectStore<V1PartialObjectMetadata>;
  secrets: ObjectStore<V1PartialObjectMetadata>;
  log: Logger;
  /** Told that the workload is not tracked any more. */
  setState(key: string, state: undefined): void;
  mayDelete(): boolean;
  deleted: Tombstones;
}

/**
 * The uids of objects this operator deleted, for a minute: a workload
 * requeued by its CronJob's DELETED event can run before the Secret's
 * DELETED event empties the cache, and would delete that Secret again.
 */
export class Tombstones {
  private readonly at = new Map<string, number>();
  constructor(
    private readonly ttlMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  add(uid: string | undefined): void {
    if (uid) this.at.set(uid, this.now());
  }

  has(uid: string | undefined): boolean {
    const t = this.now();
    for (const [u, when] of this.at) if (t - when > this.ttlMs) this.at.delete(u);
    return uid !== undefined && this.at.has(uid);
  }
}

/** The owned objects of a workload: by its annotation or labels, or by the stable name. */
function ownedBy<T extends V1PartialObjectMetadata>(
  store: ObjectStore<T>,
  controlNamespace: string,
  w: WorkloadRef,
  name: string,
): T[] {
  const found = new Map<string, T>();
  for (const obj of store.list(controlNamespace)) {
    if (isOwnedBy(obj, w)) found.set(obj.metadata?.name ?? '', obj);
  }
  const byName = store.get(controlNamespace, name);
  if (byName) found.set(name, byName);
  return [...found.values()];
}

/**
 * The workload has no annotated pod. Its CronJob and Secret go only when it
 * is really gone: the annotation was removed from its pods (`reason` given),
 * or, with no pod at all, its own object is gone or no longer annotated. A
 * pod restart, a drain or a scale to zero keep everything as it is, so the
 * status record, the missed-backup clock and a running backup survive.
 *
 * When they go, a backup Job still running finishes unless the operator is
 * told otherwise (`cleanupRunningBackups: stop`): the CronJob is deleted with
 * orphan propagation (its Jobs stay; their ttlSecondsAfterFinished removes
 * them), and the mirrored Secret stays while a running Job refers to it.
 */
export async function cleanup(
  key: string,
  w: WorkloadRef,
  name: string,
  d: CleanupDeps,
  reason: string | undefined,
): Promise<ReconcileOutcome> {
  const ns = d.config.controlNamespace;
  const live = <T extends V1PartialObjectMetadata>(objs: T[]) =>
    objs.filter((o) => !d.deleted.has(o.metadata?.uid) && !o.metadata?.deletionTimestamp);
  const cronJobs = live(ownedBy(d.cronJobs, ns, w, name));
  const secrets = live(ownedBy(d.secrets, ns, w, name));
  if (cronJobs.length + secrets.length === 0) {
    d.setState(key, undefined);
    return;
  }
  if (!d.mayDelete()) return { requeueAfterMs: UNRESOLVED_REQUEUE_MS };
  const why =
    reason ?? whyGone(w, await d.api.read.getWorkload(w.namespace, w.kind, w.name), isTracked);
  if (!why) {
    d.log.debug('no pod, but the workload is there and annotated: everything kept', {
      workload: key,
    });
    return;
  }
  d.setState(key, undefined);
  const finish = d.config.cleanupRunningBackups === 'finish';
  let conflict = false;
  for (const cj of cronJobs) {
    const r = await deleteOwned(d.api.cronJobs, cj, finish ? 'Orphan' : 'Background');
    if (r === 'deleted') {
      d.deleted.add(cj.metadata?.uid);
      d.log.info(`CronJob deleted: ${why}`, {
        workload: key,
        cronJob: `${ns}/${cj.metadata?.name}`,
        runningBackups: finish ? 'left to finish' : 'stopped',
      });
    }
    conflict ||= r === 'conflict';
  }
  let waiting = false;
  const jobs = finish && secrets.length > 0 ? await d.api.read.listJobs(ns) : [];
  for (const s of secrets) {
    const running = jobs.filter((j) => isRunning(j) && usesSecret(j, s.metadata?.name ?? ''));
    if (running.length > 0) {
      waiting = true;
      d.log.info('Secret kept until the running backup finishes', {
        workload: key,
        secret: `${ns}/${s.metadata?.name}`,
        jobs: running.map((j) => j.metadata?.name),
      });
      continue;
    }
    const r = await deleteOwned(d.api.secrets, s);
    if (r === 'deleted') {
      d.deleted.add(s.metadata?.uid);
      d.log.info(`Secret deleted: ${why}`, {
        workload: key,
        secret: `${ns}/${s.metadata?.name}`,
      });
    }
    conflict ||= r === 'conflict';
  }
  if (conflict) return { requeueAfterMs: CONFLICT_REQUEUE_MS };
  return waiting ? { requeueAfterMs: RUNNING_JOB_REQUEUE_MS } : undefined;
}

/** A Job not finished (nor being deleted): its pod may still need the Secret. */
function isRunning(job: V1Job): boolean {
  return !job.metadata?.deletionTimestamp && jobOutcome(job) === undefined;
}

/** Does the Job's pod read this Secret (env, envFrom or a volume)? */
function usesSecret(job: V1Job, secret: string): boolean {
  const pod = job.spec?.template?.spec;
  if (!pod || !secret) return false;
  const containers = [...(pod.initContainers ?? []), ...(pod.containers ?? [])];
  return (
    containers.some(
      (c) =>
        (c.env ?? []).some((e) => e.valueFrom?.secretKeyRef?.name === secret) ||
        (c.envFrom ?? []).some((e) => e.secretRef?.name === secret),
    ) || (pod.volumes ?? []).some((v) => v.secret?.secretName === secret)
  );
}
