/**
 * The status controller's reads over the operator's API client
 * (src/kube/api.ts: its pool and request listener; no generated API class),
 * and how the operator wires the controller (statusDeps). Its one write is
 * not here: it goes through src/apply's patchAnnotations.
 */
import type { KubeConfig, V1Job } from '@kubernetes/client-node';
import {
  createKubeApi,
  type KubeApi,
  type ListWatchSource,
  type RequestListener,
} from '../kube/api.js';
import { JOB_CONTROLLER_UID_LABEL, JOB_NAME_LABEL } from '../labels.js';
import type { OperatorConfig } from '../config/operator.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import type {
  SharedCronJobCache,
  StatusApi,
  StatusControllerDeps,
  StatusEventSink,
} from './deps.js';

/** The status controller's API: reads, and the CronJob patcher its write goes through. */
export function createStatusApi(api: Pick<KubeApi, 'read' | 'cronJobs'>): StatusApi {
  return {
    getCronJob: (namespace, name) => api.cronJobs.get(namespace, name),
    listJobPods: (job) =>
      api.read.listPods(
        job.metadata?.namespace ?? '',
        job.metadata?.uid
          ? `${JOB_CONTROLLER_UID_LABEL}=${job.metadata.uid}`
          : `${JOB_NAME_LABEL}=${job.metadata?.name ?? ''}`,
      ),
    getPod: (namespace, name) => api.read.getPod(namespace, name),
    cronJobPatcher: api.cronJobs,
  };
}

/**
 * The Jobs of the control namespace, through a client of its own (tests;
 * the operator uses its own client's `jobs`). No label selector: a Job made
 * by the CronJob controller carries only the jobTemplate's labels, so Jobs
 * are tied to snapkeeper by their owner CronJob instead.
 */
export function jobSource(
  kc: KubeConfig,
  namespace: string,
  onRequest: RequestListener = () => {},
): ListWatchSource<V1Job> {
  return createKubeApi(kc, onRequest).jobs(namespace);
}

/** The status controller's dependencies as the operator wires them (src/controller/run.ts). */
export function statusDeps(o: {
  config: Pick<OperatorConfig, 'controlNamespace' | 'missedBackupGraceSeconds'>;
  /** The operator's API client: its pool, and its request listener counts status's requests. */
  api: KubeApi;
  log: Logger;
  metrics: Metrics;
  /** The operator's CronJob cache (src/controller/caches.ts). */
  cronJobs: SharedCronJobCache;
  /** The operator's deduplicating recorder. */
  events: StatusEventSink;
}): StatusControllerDeps {
  const ns = o.config.controlNamespace;
  return {
    namespace: ns,
    jobs: o.api.jobs(ns),
    cronJobs: o.cronJobs,
    api: createStatusApi(o.api),
    events: o.events,
    metrics: o.metrics,
    log: o.log,
    missedGraceSeconds: o.config.missedBackupGraceSeconds,
  };
}
