import {
  BatchV1Api,
  CoreV1Api,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type KubeConfig,
  type V1Job,
} from '@kubernetes/client-node';
import { listWatchSource, type ListWatchSource, type RequestListener } from '../kube/api.js';
import { orUndefined } from '../kube/errors.js';
import {
  JOB_CONTROLLER_UID_LABEL,
  JOB_NAME_LABEL,
  MANAGED_BY,
  MANAGED_BY_LABEL,
} from '../labels.js';
import type { OperatorConfig } from '../config/operator.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import type {
  SharedCronJobCache,
  StatusApi,
  StatusControllerDeps,
  StatusEventSink,
} from './controller.js';

export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

export function createStatusApi(kc: KubeConfig, onRequest: RequestListener = () => {}): StatusApi {
  const batch = kc.makeApiClient(BatchV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  return {
    getCronJob(namespace, name) {
      onRequest('get', 'cronjobs');
      return orUndefined(batch.readNamespacedCronJob({ namespace, name }));
    },
    patchCronJobAnnotations(namespace, name, resourceVersion, annotations) {
      onRequest('patch', 'cronjobs');
      return batch.patchNamespacedCronJob(
        {
          namespace,
          name,
          body: { metadata: { ...(resourceVersion ? { resourceVersion } : {}), annotations } },
          fieldManager: 'snapkeeper-status',
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
    },
    async listJobPods(job) {
      onRequest('list', 'pods');
      const namespace = job.metadata?.namespace ?? '';
      const uid = job.metadata?.uid;
      const res = await core.listNamespacedPod({
        namespace,
        labelSelector: uid
          ? `${JOB_CONTROLLER_UID_LABEL}=${uid}`
          : `${JOB_NAME_LABEL}=${job.metadata?.name ?? ''}`,
      });
      return res.items;
    },
    getPod(namespace, name) {
      onRequest('get', 'pods');
      return orUndefined(core.readNamespacedPod({ namespace, name }));
    },
  };
}

/**
 * The Jobs of the control namespace. No label selector: a Job made by the
 * CronJob controller carries only the jobTemplate's labels, so Jobs are tied
 * to snapkeeper by their owner CronJob instead.
 */
export function jobSource(
  kc: KubeConfig,
  namespace: string,
  onRequest: RequestListener = () => {},
): ListWatchSource<V1Job> {
  const batch = kc.makeApiClient(BatchV1Api);
  return listWatchSource<V1Job>(
    new Watch(kc),
    onRequest,
    'jobs',
    `/apis/batch/v1/namespaces/${namespace}/jobs`,
    () => batch.listNamespacedJob({ namespace }),
  );
}

/** The status controller's dependencies as the operator wires them (src/controller/run.ts). */
export function statusDeps(o: {
  config: OperatorConfig;
  kubeConfig: KubeConfig;
  log: Logger;
  metrics: Metrics;
  onRequest: RequestListener;
  /** The operator's CronJob cache (src/controller/caches.ts). */
  cronJobs: SharedCronJobCache;
  /** The operator's deduplicating recorder. */
  events: StatusEventSink;
}): StatusControllerDeps {
  const ns = o.config.controlNamespace;
  return {
    namespace: ns,
    jobs: jobSource(o.kubeConfig, ns, o.onRequest),
    cronJobs: o.cronJobs,
    api: createStatusApi(o.kubeConfig, o.onRequest),
    events: o.events,
    metrics: o.metrics,
    log: o.log,
    missedGraceSeconds: o.config.missedBackupGraceSeconds,
  };
}
