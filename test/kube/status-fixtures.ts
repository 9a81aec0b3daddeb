// Shared by the status and trigger suites: a snapkeeper CronJob built by the
// real desired builder, and "the kubelet" played by the test (the job
// controller of kube-controller-manager creates the pods; the test writes
// their terminated status, as a kubelet would, through the status subresource).
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import {
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
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
import type { KubeInfo } from '../env/helpers.js';

export function kubeConfigOf(kube: KubeInfo): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kube.kubeconfig);
  return kc;
}

export const rand = () => randomBytes(3).toString('hex');

export async function createNamespace(kc: KubeConfig, name: string): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
}

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

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
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
 * by a Job informer again; returns how many.
 */
export async function touchJobs(kc: KubeConfig, namespace: string): Promise<number> {
  const batch = kc.makeApiClient(BatchV1Api);
  const jobs = (await batch.listNamespacedJob({ namespace })).items;
  for (const j of jobs) {
    await batch.patchNamespacedJob(
      {
        namespace,
        name: j.metadata!.name!,
        body: { metadata: { labels: { 'test.snapkeeper.io/touched': rand() } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
  }
  return jobs.length;
}

/** The pod the job controller made for this Job. */
export function jobPod(kc: KubeConfig, job: V1Job): Promise<V1Pod> {
  const core = kc.makeApiClient(CoreV1Api);
  return waitFor(`a pod of job ${job.metadata?.name}`, async () => {
    const pods = await core.listNamespacedPod({
      namespace: job.metadata!.namespace!,
      labelSelector: `batch.kubernetes.io/controller-uid=${job.metadata!.uid}`,
    });
    return pods.items[0];
  });
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
  return waitFor(`job ${name} to finish`, async () => {
    const j = await batch.readNamespacedJob({ namespace, name });
    const done = j.status?.conditions?.some(
      (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
    );
    return done ? j : undefined;
  });
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
