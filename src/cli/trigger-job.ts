import {
  BatchV1Api,
  CoreV1Api,
  Watch,
  type KubeConfig,
  type V1CronJob,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node';
import { OperationError, UserError } from '../errors.js';
import {
  CRONJOB_INSTANTIATE_ANNOTATION,
  isRestoreTestObject,
  JOB_CONTROLLER_UID_LABEL,
  MANAGED_SELECTOR,
  WORKLOAD_NAMESPACE_LABEL,
} from '../labels.js';
import {
  ownerOf,
  parseKubernetesWorkloadName,
  sameWorkloadName,
  type WorkloadName,
} from '../workload.js';
import { jobOutcome } from '../status/result.js';

/** Job names stay ≤ 63 characters: the job controller puts them in a label. */
const MAX_JOB_NAME = 63;

/** `<namespace>/<workload>` → its parts, or a UserError. */
export function parseWorkloadRef(ref: string): WorkloadName {
  const w = parseKubernetesWorkloadName(ref);
  if (!w) throw new UserError(`expected <namespace>/<workload>, got '${ref}'`);
  return w;
}

/** snapkeeper's CronJobs for workloads of one namespace (the name is matched after: labels are cut at 63). */
export function workloadSelector(namespace: string): string {
  return [MANAGED_SELECTOR, `${WORKLOAD_NAMESPACE_LABEL}=${namespace}`].join(',');
}

/**
 * A Job made from a CronJob now, as `kubectl create job --from=cronjob/...`
 * does: the jobTemplate, the manual-instantiation annotation, and the CronJob
 * as controlling owner (so the CronJob's history limits and the status
 * controller treat it like a scheduled run). Pure.
 */
export function jobFromCronJob(cronJob: V1CronJob, now: Date): V1Job {
  const cjName = cronJob.metadata?.name ?? '';
  const suffix = `-manual-${Math.floor(now.getTime() / 1000)}`;
  const base = cjName.slice(0, MAX_JOB_NAME - suffix.length).replace(/-+$/, '');
  const template = cronJob.spec?.jobTemplate;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: `${base}${suffix}`,
      namespace: cronJob.metadata?.namespace,
      labels: { ...(template?.metadata?.labels ?? {}) },
      annotations: {
        ...(template?.metadata?.annotations ?? {}),
        [CRONJOB_INSTANTIATE_ANNOTATION]: 'manual',
      },
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          name: cjName,
          uid: cronJob.metadata?.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: template?.spec ?? { template: { spec: { containers: [] } } },
  };
}

export interface TriggerApi {
  findCronJobs(namespace: string, labelSelector: string): Promise<V1CronJob[]>;
  createJob(job: V1Job): Promise<V1Job>;
}

/**
 * Finds the workload's backup CronJob in the control namespace (its
 * restore-test CronJob aside) and creates a Job from it.
 */
export async function triggerBackup(
  api: TriggerApi,
  controlNamespace: string,
  workload: WorkloadName,
  now: Date,
): Promise<V1Job> {
  const found = (
    await api.findCronJobs(controlNamespace, workloadSelector(workload.namespace))
  ).filter((cj) => {
    const w = ownerOf(cj);
    return w !== undefined && sameWorkloadName(w, workload) && !isRestoreTestObject(cj);
  });
  if (found.length === 0) {
    throw new UserError(
      `no snapkeeper backup for ${workload.namespace}/${workload.name} in namespace ${controlNamespace}` +
        ' (see snapkeeper status)',
    );
  }
  if (found.length > 1) {
    const names = found.map((c) => c.metadata?.name).join(', ');
    throw new UserError(
      `${workload.namespace}/${workload.name} has several backup CronJobs (${names}); trigger one with kubectl create job --from`,
    );
  }
  return api.createJob(jobFromCronJob(found[0]!, now));
}

export function kubeTriggerApi(kc: KubeConfig): TriggerApi & JobWaitApi {
  const batch = kc.makeApiClient(BatchV1Api);
  const core = kc.makeApiClient(CoreV1Api);
  const watcher = new Watch(kc);
  return {
    async findCronJobs(namespace, labelSelector) {
      return (await batch.listNamespacedCronJob({ namespace, labelSelector })).items;
    },
    createJob(job) {
      return batch.createNamespacedJob({ namespace: job.metadata?.namespace ?? '', body: job });
    },
    getJob(namespace, name) {
      return batch.readNamespacedJob({ namespace, name });
    },
    async listPods(job) {
      const uid = job.metadata?.uid ?? '';
      return (
        await core.listNamespacedPod({
          namespace: job.metadata?.namespace ?? '',
          labelSelector: `${JOB_CONTROLLER_UID_LABEL}=${uid}`,
        })
      ).items;
    },
    async watchJob(namespace, name, resourceVersion, onJob, onDone) {
      const c = await watcher.watch(
        `/apis/batch/v1/namespaces/${namespace}/jobs`,
        { fieldSelector: `metadata.name=${name}`, resourceVersion, timeoutSeconds: 300 },
        (_type, obj) => onJob(obj as V1Job),
        onDone,
      );
      return () => c.abort();
    },
  };
}

export interface JobWaitApi {
  getJob(namespace: string, name: string): Promise<V1Job>;
  listPods(job: V1Job): Promise<V1Pod[]>;
  watchJob(
    namespace: string,
    name: string,
    resourceVersion: string,
    onJob: (job: V1Job) => void,
    onDone: (err: unknown) => void,
  ): Promise<() => void>;
}

/**
 * Follows a Job (watch, re-established when the server closes it) until it
 * has its final condition; resolves with the finished Job. Rejects when the
 * signal aborts.
 */
export async function waitForJob(
  api: Pick<JobWaitApi, 'getJob' | 'watchJob'>,
  namespace: string,
  name: string,
  signal: AbortSignal,
): Promise<V1Job> {
  for (;;) {
    if (signal.aborted) throw new OperationError(`stopped waiting for job ${name}`);
    const job = await api.getJob(namespace, name);
    if (jobOutcome(job)) return job;
    const finished = await new Promise<V1Job | undefined>((resolve, reject) => {
      let stop: (() => void) | undefined;
      let settled = false;
      const settle = (j: V1Job | undefined, err?: unknown) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        stop?.();
        if (err) reject(err);
        else resolve(j);
      };
      const onAbort = () =>
        settle(undefined, new OperationError(`stopped waiting for job ${name}`));
      signal.addEventListener('abort', onAbort, { once: true });
      api
        .watchJob(
          namespace,
          name,
          job.metadata?.resourceVersion ?? '',
          (j) => {
            if (jobOutcome(j)) settle(j);
          },
          // A closed watch (timeout, 410, network): re-read and watch again.
          () => settle(undefined),
        )
        .then(
          (s) => {
            stop = s;
            if (settled) s();
          },
          (err: unknown) => settle(undefined, err),
        );
    });
    if (finished) return finished;
    await new Promise<void>((r) => setTimeout(r, 500).unref?.());
  }
}
