// Shared by the status and trigger suites: a snapkeeper CronJob built by the
// real desired builder, and "the kubelet" played by the test (the job
// controller of kube-controller-manager creates the pods; the test writes
// their terminated status, as a kubelet would, through the status subresource).
import { Writable } from 'node:stream';
import { expect } from 'vitest';
import {
  BatchV1Api,
  CoreV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1CronJob,
  type V1Job,
  type V1Pod,
} from '@kubernetes/client-node';
import { loadOperatorConfig } from '../../src/config/operator.js';
import { desiredCronJob } from '../../src/desired/cronjob.js';
import { createLogger } from '../../src/log.js';
import type { CliContext } from '../../src/cli/context.js';
import { createKubeApi, type ListWatchSource } from '../../src/kube/api.js';
import { EventRecorder } from '../../src/controller/events.js';
import {
  startStatusController,
  type StatusController,
  type StatusControllerDeps,
} from '../../src/status/controller.js';
import { createStatusApi, jobSource } from '../../src/status/kube.js';
import { ownedCronJobCache } from '../../src/controller/caches.js';
import { run } from '../../src/cli.js';
import { jobFromCronJob } from '../../src/cli/trigger-job.js';
import { kubeConfig, uniqueName, type KubeInfo } from '../env/helpers.js';
import { eventually, newNamespace } from './fixtures.js';

/**
 * A status controller over the control namespace, as the operator wires it:
 * the real Job source (or `jobs`, e.g. a countingSource), the operator's
 * CronJob cache (started here, stopped with the controller), the status API,
 * a deduplicating Event recorder named `instance`.
 */
export function startTestStatusController(
  kc: KubeConfig,
  control: string,
  o: Pick<StatusControllerDeps, 'metrics' | 'missedGraceSeconds'> &
    Partial<Pick<StatusControllerDeps, 'jobs' | 'missedCheckIntervalMs' | 'now'>> & {
      instance: string;
    },
): StatusController {
  const log = createLogger({ level: 'warn', format: 'text' });
  const { instance, ...deps } = o;
  const api = createKubeApi(kc);
  const cronJobs = ownedCronJobCache(api, control, { log });
  cronJobs.start();
  const ctl = startStatusController({
    namespace: control,
    jobs: jobSource(kc, control),
    cronJobs,
    api: createStatusApi(api),
    events: new EventRecorder({ api: api.events, log, instance }),
    log,
    ...deps,
  });
  return {
    ...ctl,
    async stop() {
      await ctl.stop();
      await cronJobs.stop();
      api.close();
    },
  };
}

/** The source pod (stays Pending: no scheduler, no kubelet). */
export async function createSourcePod(
  kc: KubeConfig,
  namespace: string,
  name: string,
): Promise<V1Pod> {
  return kc.makeApiClient(CoreV1Api).createNamespacedPod({
    namespace,
    body: {
      metadata: { name, labels: { app: name } },
      spec: { containers: [{ name: 'db', image: 'postgres:17' }] },
    },
  });
}

/** The CronJob the operator would keep for <namespace>/<workload> (a Deployment of PostgreSQL). */
export async function createSnapkeeperCronJob(
  kc: KubeConfig,
  control: string,
  workload: { namespace: string; name: string },
  sourcePod: string,
  // Default: once a year, at a time the suite never runs at (the test makes the Jobs).
  schedule = '17 4 29 2 *',
): Promise<V1CronJob> {
  const config = loadOperatorConfig({
    SNAPKEEPER_CONTROL_NAMESPACE: control,
    SNAPKEEPER_WATCH_NAMESPACES: workload.namespace,
    SNAPKEEPER_STORAGE: 's3://backups/cluster',
    SNAPKEEPER_JOB_BACKOFF_LIMIT: '0',
  });
  const desired = desiredCronJob({
    workload: { namespace: workload.namespace, kind: 'Deployment', name: workload.name },
    spec: {
      type: 'postgresql',
      schedule,
      timezone: 'Etc/UTC',
      recipients: [],
      dumpOptions: [],
      suspend: false,
    },
    target: { host: `${workload.name}.${workload.namespace}.svc`, port: 5432 },
    credentials: { hasUsername: true, hasDatabase: true },
    config,
    sourcePod,
  });
  return kc
    .makeApiClient(BatchV1Api)
    .createNamespacedCronJob({ namespace: control, body: desired });
}

export interface StatusScene {
  kc: KubeConfig;
  /** The operator's namespace, where the CronJob and its Jobs are. */
  control: string;
  /** The workload's namespace, with its source pod `postgres-0`. */
  shop: string;
  cronJob: V1CronJob;
}

/**
 * What the status suites start from: a control namespace `<prefix>-…`, a
 * workload namespace `shop-…` with the source pod `postgres-0`, and the
 * CronJob the operator would keep for <shop>/postgres (`schedule`: see
 * createSnapkeeperCronJob).
 */
export async function createStatusScene(
  kube: KubeInfo,
  prefix: string,
  schedule?: string,
): Promise<StatusScene> {
  const kc = kubeConfig(kube);
  const control = await newNamespace(kube, prefix);
  const shop = await newNamespace(kube, 'shop');
  await createSourcePod(kc, shop, 'postgres-0');
  const cronJob = await createSnapkeeperCronJob(
    kc,
    control,
    { namespace: shop, name: 'postgres' },
    'postgres-0',
    schedule,
  );
  return { kc, control, shop, cronJob };
}

/** A Job made from `cronJob` (as `trigger` makes it), its pod ended as a kubelet would, finished. */
export async function runJobOf(
  kc: KubeConfig,
  cronJob: V1CronJob,
  exitCode: number,
  message: string | undefined,
): Promise<V1Job> {
  const namespace = cronJob.metadata!.namespace!;
  const job = await kc
    .makeApiClient(BatchV1Api)
    .createNamespacedJob({ namespace, body: jobFromCronJob(cronJob, new Date()) });
  await finishPod(kc, await jobPod(kc, job), exitCode, message);
  return jobFinished(kc, namespace, job.metadata!.name!);
}

/** The CronJob's annotations as stored now. */
export async function cronJobAnnotations(
  kc: KubeConfig,
  cronJob: V1CronJob,
): Promise<Record<string, string>> {
  const cj = await kc.makeApiClient(BatchV1Api).readNamespacedCronJob({
    namespace: cronJob.metadata!.namespace!,
    name: cronJob.metadata!.name!,
  });
  return cj.metadata?.annotations ?? {};
}

/**
 * A list/watch source that counts the watch events it has handed on. The
 * informer applies each event and calls its handlers before the count moves,
 * so "delivered() has passed N" means the controller has seen N more events.
 */
export function countingSource<T extends KubernetesObject>(
  source: ListWatchSource<T>,
): { source: ListWatchSource<T>; delivered(): number } {
  let delivered = 0;
  return {
    delivered: () => delivered,
    source: {
      description: source.description,
      list: () => source.list(),
      watch: (resourceVersion, onEvent, onDone) =>
        source.watch(
          resourceVersion,
          (event) => {
            onEvent(event);
            delivered++;
          },
          onDone,
        ),
    },
  };
}

/**
 * Changes every Job of the namespace once (a label only), so that each comes
 * by a Job informer again, and waits until `jobs` (the counting source of a
 * controller) has handed on all those events.
 */
export async function seeEveryJobAgain(
  kc: KubeConfig,
  namespace: string,
  jobs: { delivered(): number },
): Promise<void> {
  const seen = jobs.delivered();
  const batch = kc.makeApiClient(BatchV1Api);
  const all = (await batch.listNamespacedJob({ namespace })).items;
  for (const j of all) {
    await batch.patchNamespacedJob(
      {
        namespace,
        name: j.metadata!.name!,
        body: { metadata: { labels: { 'test.snapkeeper.io/touched': uniqueName() } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
  await eventually('the controller to see every Job again', () =>
    jobs.delivered() >= seen + all.length ? true : undefined,
  );
}

/** The pod the job controller made for this Job. */
export function jobPod(kc: KubeConfig, job: V1Job): Promise<V1Pod> {
  const core = kc.makeApiClient(CoreV1Api);
  return eventually(
    `a pod of job ${job.metadata?.name}`,
    async () => {
      const pods = await core.listNamespacedPod({
        namespace: job.metadata!.namespace!,
        labelSelector: `batch.kubernetes.io/controller-uid=${job.metadata!.uid}`,
      });
      return pods.items[0];
    },
    60_000,
  );
}

/**
 * What a kubelet would report when the dumper container ends: phase, and the
 * container's terminated state with exit code and termination message.
 */
export async function finishPod(
  kc: KubeConfig,
  pod: V1Pod,
  exitCode: number,
  message: string | undefined,
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const now = new Date();
  const current = await core.readNamespacedPodStatus({
    namespace: pod.metadata!.namespace!,
    name: pod.metadata!.name!,
  });
  const containers = current.spec?.containers ?? [];
  await core.replaceNamespacedPodStatus({
    namespace: pod.metadata!.namespace!,
    name: pod.metadata!.name!,
    body: {
      ...current,
      status: {
        ...current.status,
        phase: exitCode === 0 ? 'Succeeded' : 'Failed',
        startTime: current.status?.startTime ?? new Date(now.getTime() - 10_000),
        containerStatuses: containers.map((c) => ({
          name: c.name,
          image: c.image ?? '',
          imageID: '',
          ready: false,
          restartCount: 0,
          started: false,
          state: {
            terminated: {
              exitCode,
              reason: exitCode === 0 ? 'Completed' : 'Error',
              ...(message !== undefined ? { message } : {}),
              startedAt: new Date(now.getTime() - 10_000),
              finishedAt: now,
            },
          },
        })),
      },
    },
  });
}

export function jobFinished(kc: KubeConfig, namespace: string, name: string): Promise<V1Job> {
  const batch = kc.makeApiClient(BatchV1Api);
  return eventually(
    `job ${name} to finish`,
    async () => {
      const j = await batch.readNamespacedJob({ namespace, name });
      const done = j.status?.conditions?.some(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      );
      return done ? j : undefined;
    },
    60_000,
  );
}

export const successMessage = (key: string, bytes: number) =>
  JSON.stringify({
    ok: true,
    manifestKey: `${key}/manifest.json`,
    objects: [
      {
        key: `${key}/app.sql.gz`,
        bytes,
        sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
    ],
    bytes,
    rawBytes: bytes * 4,
    durationSeconds: 12.5,
    serverVersion: '17.2',
    startedAt: new Date(Date.now() - 12_500).toISOString(),
    finishedAt: new Date().toISOString(),
  });

export const failureMessage = (error: string) =>
  JSON.stringify({
    ok: false,
    error,
    durationSeconds: 0.4,
    startedAt: new Date(Date.now() - 400).toISOString(),
    finishedAt: new Date().toISOString(),
  });

/** A CLI context that captures stdout/stderr. */
export function captureContext(env: NodeJS.ProcessEnv = {}, signal?: AbortSignal) {
  let out = '';
  let err = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, cb) {
        append(String(chunk));
        cb();
      },
    });
  const ctx: CliContext = {
    stdout: sink((s) => (out += s)),
    stderr: sink((s) => (err += s)),
    env,
    log: createLogger({ level: 'error', format: 'text', write: () => {} }),
    signal: signal ?? new AbortController().signal,
  };
  return { ctx, stdout: () => out, stderr: () => err };
}

/** Prometheus text → samples, for asserting on what /metrics would show. */
export function parseMetrics(
  text: string,
): Array<{ name: string; labels: Record<string, string>; value: number }> {
  const out: Array<{ name: string; labels: Record<string, string>; value: number }> = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[l[1]!] = l[2]!.replace(/\\(.)/g, '$1');
    }
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sample of `name` for workload <namespace>/<workload> (a PostgreSQL one), with `extra` labels. */
export function workloadSample(
  samples: ReturnType<typeof parseMetrics>,
  name: string,
  of: { namespace: string; workload: string },
  extra: Record<string, string> = {},
): number | undefined {
  return samples.find(
    (s) =>
      s.name === name &&
      s.labels.namespace === of.namespace &&
      s.labels.workload === of.workload &&
      s.labels.type === 'postgresql' &&
      Object.entries(extra).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

/** `snapkeeper status -n <control> -o <output>`'s stdout; it must succeed and print nothing on stderr. */
export async function statusOutput(
  kube: KubeInfo,
  control: string,
  output: 'json' | 'table',
): Promise<string> {
  const { ctx, stdout, stderr } = captureContext();
  const code = await run(
    ['status', '--kubeconfig', kube.kubeconfig, '-n', control, '-o', output],
    ctx,
  );
  expect(stderr()).toBe('');
  expect(code).toBe(0);
  return stdout();
}
