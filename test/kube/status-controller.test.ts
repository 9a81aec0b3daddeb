// Finished backup Jobs → Events, metrics, status annotations and the
// `status` row, against the real kube-apiserver and kube-controller-manager.
// The Jobs are made from a CronJob built by the real desired builder; the
// job controller makes their pods; the test plays the kubelet and writes the
// dumper's termination message into the pod status.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Registry } from 'prom-client';
import {
  BatchV1Api,
  CoreV1Api,
  type CoreV1Event,
  type KubeConfig,
  type V1CronJob,
  type V1Job,
} from '@kubernetes/client-node';
import { run } from '../../src/cli.js';
import { createMetrics, type Metrics } from '../../src/metrics/registry.js';
import type { ListWatchSource } from '../../src/kube/api.js';
import type { StatusController } from '../../src/status/controller.js';
import { jobSource } from '../../src/status/kube.js';
import { jobFromCronJob } from '../../src/cli/trigger-job.js';
import { STATUS_ANNOTATIONS as A } from '../../src/labels.js';
import type { StatusRow } from '../../src/cli/status-table.js';
import {
  captureContext,
  countingSource,
  createNamespace,
  createSnapkeeperCronJob,
  createSourcePod,
  failureMessage,
  finishPod,
  jobFinished,
  jobPod,
  kubeConfigOf,
  parseMetrics,
  rand,
  startTestStatusController,
  successMessage,
  touchJobs,
  waitFor,
} from './status-fixtures.js';

const kube = inject('kube');

let kc: KubeConfig;
let control: string;
let shop: string;
let cronJob: V1CronJob;
const workload = { name: 'postgres' } as { namespace: string; name: string };

function startController(
  metrics: Metrics,
  jobs: ListWatchSource<V1Job> = jobSource(kc, control),
): StatusController {
  return startTestStatusController(kc, control, {
    metrics,
    jobs,
    instance: 'status-test',
    missedGraceSeconds: 3600,
  });
}

async function runJob(exitCode: number, message: string | undefined) {
  const batch = kc.makeApiClient(BatchV1Api);
  const job = await batch.createNamespacedJob({
    namespace: control,
    body: jobFromCronJob(cronJob, new Date()),
  });
  const pod = await jobPod(kc, job);
  await finishPod(kc, pod, exitCode, message);
  return jobFinished(kc, control, job.metadata!.name!);
}

async function podEvents(reason: string): Promise<CoreV1Event[]> {
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: shop });
  return list.items.filter((e) => e.reason === reason && e.involvedObject.name === 'postgres-0');
}

async function annotations(): Promise<Record<string, string>> {
  const cj = await kc
    .makeApiClient(BatchV1Api)
    .readNamespacedCronJob({ namespace: control, name: cronJob.metadata!.name! });
  return cj.metadata?.annotations ?? {};
}

async function scrape(metrics: Metrics) {
  return parseMetrics(await metrics.registry.metrics());
}

function sample(
  samples: ReturnType<typeof parseMetrics>,
  name: string,
  extra: Record<string, string> = {},
) {
  return samples.find(
    (s) =>
      s.name === name &&
      s.labels.namespace === shop &&
      s.labels.workload === 'postgres' &&
      s.labels.type === 'postgresql' &&
      Object.entries(extra).every(([k, v]) => s.labels[k] === v),
  )?.value;
}

async function statusRows(): Promise<StatusRow[]> {
  const { ctx, stdout, stderr } = captureContext();
  const code = await run(
    ['status', '--kubeconfig', kube.kubeconfig, '-n', control, '-o', 'json'],
    ctx,
  );
  expect(stderr()).toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout()) as StatusRow[];
}

beforeAll(async () => {
  kc = kubeConfigOf(kube);
  control = `sk-status-${rand()}`;
  shop = `shop-${rand()}`;
  workload.namespace = shop;
  await createNamespace(kc, control);
  await createNamespace(kc, shop);
  await createSourcePod(kc, shop, 'postgres-0');
  cronJob = await createSnapkeeperCronJob(kc, control, workload, 'postgres-0');
});

describe('status controller against the apiserver', () => {
  let metrics: Metrics;
  let ctl: StatusController;

  afterAll(async () => {
    await ctl?.stop();
  });

  it('given a successful Job, then BackupSucceeded on the source pod, the metrics and the status row', async () => {
    metrics = createMetrics(new Registry());
    ctl = startController(metrics);
    await ctl.synced;

    const job = await runJob(0, successMessage(`${shop}/postgres/20261120T030000Z`, 123_456));
    expect(job.status?.conditions?.some((c) => c.type === 'Complete')).toBe(true);

    const [event] = await waitFor('BackupSucceeded', async () => {
      const evs = await podEvents('BackupSucceeded');
      return evs.length > 0 && evs;
    });
    expect(event!.type).toBe('Normal');
    expect(event!.message).toContain('120.6 KiB in 12.5s');
    expect(event!.message).toContain(job.metadata!.name!);

    const a = await waitFor('status annotations', async () => {
      const x = await annotations();
      return x[A.lastSuccess] ? x : undefined;
    });
    expect(a[A.lastSize]).toBe('123456');
    expect(a[A.runsSucceeded]).toBe('1');
    // The apply step's spec hash is untouched by the status patch.
    expect(a['snapkeeper.io/spec-hash']).toBe(
      cronJob.metadata!.annotations!['snapkeeper.io/spec-hash'],
    );

    await ctl.drained();
    const s = await waitFor('metrics', async () => {
      const x = await scrape(metrics);
      return sample(x, 'snapkeeper_backup_last_size_bytes') === 123_456 && x;
    });
    expect(sample(s, 'snapkeeper_backup_last_success_timestamp_seconds')).toBeCloseTo(
      Date.parse(a[A.lastSuccess]!) / 1000,
      3,
    );
    expect(sample(s, 'snapkeeper_backup_last_duration_seconds')).toBe(12.5);
    expect(sample(s, 'snapkeeper_backup_runs_total', { result: 'success' })).toBe(1);
    expect(sample(s, 'snapkeeper_backup_runs_total', { result: 'failure' })).toBe(0);
    expect(sample(s, 'snapkeeper_backup_missed')).toBe(0);

    const rows = await statusRows();
    const row = rows.find((r) => r.namespace === shop && r.workload === 'postgres');
    expect(row).toMatchObject({
      engine: 'postgresql',
      schedule: '17 4 29 2 *',
      timezone: 'Etc/UTC',
      lastSuccess: a[A.lastSuccess],
      lastSizeBytes: 123_456,
      lastDurationSeconds: 12.5,
      lastResult: 'success',
      lastError: null,
    });
    expect(Date.parse(row!.nextRun!)).toBeGreaterThan(Date.now());
  });

  it('given a failed Job, then BackupFailed with the dumper reason, the failure counted, the error in the status row', async () => {
    await runJob(
      1,
      failureMessage(
        'pg_dump exited with code 1: FATAL: password authentication failed for user "app"',
      ),
    );
    const [event] = await waitFor('BackupFailed', async () => {
      const evs = await podEvents('BackupFailed');
      return evs.length > 0 && evs;
    });
    expect(event!.type).toBe('Warning');
    expect(event!.message).toContain('password authentication failed');

    await waitFor('the failure recorded', async () => (await annotations())[A.runsFailed] === '1');
    await ctl.drained();
    const s = await waitFor('failure metric', async () => {
      const x = await scrape(metrics);
      return sample(x, 'snapkeeper_backup_runs_total', { result: 'failure' }) === 1 && x;
    });
    expect(sample(s, 'snapkeeper_backup_runs_total', { result: 'success' })).toBe(1);
    // The last success is still the earlier one.
    expect(sample(s, 'snapkeeper_backup_last_size_bytes')).toBe(123_456);

    const row = (await statusRows()).find((r) => r.workload === 'postgres')!;
    expect(row.lastResult).toBe('failure');
    expect(row.lastError).toContain('password authentication failed');
    expect(row.lastSizeBytes).toBe(123_456);

    // The human table shows the error too.
    const { ctx, stdout } = captureContext();
    expect(await run(['status', '--kubeconfig', kube.kubeconfig, '-n', control], ctx)).toBe(0);
    expect(stdout()).toMatch(/NAMESPACE\s+WORKLOAD\s+ENGINE/);
    expect(stdout()).toContain('password authentication failed');
  });

  it('given a Job without a termination message that failed, then the exit code explains it', async () => {
    await runJob(137, undefined);
    await waitFor('the failure recorded', async () => (await annotations())[A.runsFailed] === '2');
    expect((await annotations())[A.lastError]).toMatch(/dumper exited with code 137/);
  });

  it('given a restart of the status controller, then the metrics come back from the annotations and nothing is counted twice', async () => {
    const before = await annotations();
    const eventsBefore = [
      ...(await podEvents('BackupSucceeded')),
      ...(await podEvents('BackupFailed')),
    ];
    await ctl.stop();

    metrics = createMetrics(new Registry());
    const jobs = countingSource(jobSource(kc, control));
    ctl = startController(metrics, jobs.source);
    await ctl.synced;
    await ctl.drained();
    const s = await waitFor('restored metrics', async () => {
      const x = await scrape(metrics);
      return sample(x, 'snapkeeper_backup_runs_total', { result: 'failure' }) !== undefined && x;
    });
    expect(sample(s, 'snapkeeper_backup_runs_total', { result: 'success' })).toBe(1);
    expect(sample(s, 'snapkeeper_backup_runs_total', { result: 'failure' })).toBe(2);
    expect(sample(s, 'snapkeeper_backup_last_size_bytes')).toBe(123_456);
    expect(sample(s, 'snapkeeper_backup_last_success_timestamp_seconds')).toBeCloseTo(
      Date.parse(before[A.lastSuccess]!) / 1000,
      3,
    );

    // Every finished Job comes by the new controller once more (a label
    // changes): one that did not know them recorded would record them again.
    const seen = jobs.delivered();
    const touched = await touchJobs(kc, control);
    await waitFor('the controller to see every Job again', async () =>
      jobs.delivered() >= seen + touched ? true : undefined,
    );
    await ctl.drained();
    const after = await annotations();
    for (const k of [A.runsSucceeded, A.runsFailed, A.recordedJobs, A.lastSuccess, A.lastJob]) {
      expect(after[k]).toBe(before[k]);
    }
    const eventsAfter = [
      ...(await podEvents('BackupSucceeded')),
      ...(await podEvents('BackupFailed')),
    ];
    expect(eventsAfter.map((e) => [e.metadata?.name, e.count])).toEqual(
      eventsBefore.map((e) => [e.metadata?.name, e.count]),
    );
  });

  it('given a successful Job whose result says it shrank, then BackupSucceeded and a BackupShrank Warning, the shrink counted, the sentence in the status row', async () => {
    const sentence =
      'the backup shrank: 1000 rows fewer (1010 → 10, -99%); tables gone: app: public.orders';
    const ok = JSON.parse(successMessage(`${shop}/postgres/20261121T030000Z`, 2_048)) as object;
    const job = await runJob(0, JSON.stringify({ ...ok, shrank: sentence }));
    const name = job.metadata!.name!;

    const [event] = await waitFor('BackupShrank', async () => {
      const evs = await podEvents('BackupShrank');
      return evs.length > 0 && evs;
    });
    expect(event!.type).toBe('Warning');
    expect(event!.message).toBe(`${sentence} (job ${name})`);
    // Still a success: BackupSucceeded for the same Job.
    expect((await podEvents('BackupSucceeded')).some((e) => e.message?.includes(name))).toBe(true);

    await waitFor('the shrink recorded', async () => (await annotations())[A.runsShrank] === '1');
    const a = await annotations();
    expect(a[A.runsSucceeded]).toBe('2');
    expect(a[A.lastShrank]).toBe(sentence);
    await ctl.drained();
    const s = await waitFor('shrank metric', async () => {
      const x = await scrape(metrics);
      return sample(x, 'snapkeeper_backup_shrank_total') === 1 && x;
    });
    expect(sample(s, 'snapkeeper_backup_runs_total', { result: 'success' })).toBe(2);
    expect(sample(s, 'snapkeeper_backup_runs_total', { result: 'failure' })).toBe(2);
    expect(sample(s, 'snapkeeper_backup_last_size_bytes')).toBe(2_048);

    const row = (await statusRows()).find((r) => r.workload === 'postgres')!;
    expect(row).toMatchObject({ lastResult: 'success', lastShrank: sentence, runsShrank: 1 });
    const { ctx, stdout } = captureContext();
    expect(await run(['status', '--kubeconfig', kube.kubeconfig, '-n', control], ctx)).toBe(0);
    expect(stdout()).toContain('tables gone: app: public.orders');
  });
});
