// Finished backup Jobs → Events, metrics, status annotations and the
// `status` row, against the real kube-apiserver and kube-controller-manager.
// The Jobs are made from a CronJob built by the real desired builder; the
// job controller makes their pods; the test plays the kubelet and writes the
// dumper's termination message into the pod status.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Registry } from 'prom-client';
import type { KubeConfig, V1CronJob, V1Job } from '@kubernetes/client-node';
import { run } from '../../src/cli.js';
import { createMetrics, type Metrics } from '../../src/metrics/registry.js';
import type { ListWatchSource } from '../../src/kube/api.js';
import type { StatusController } from '../../src/status/controller.js';
import { jobSource } from '../../src/status/kube.js';
import { STATUS_ANNOTATIONS as A } from '../../src/labels.js';
import type { StatusRow } from '../../src/cli/status-table.js';
import { eventually, podEvents as eventsOf } from './fixtures.js';
import {
  captureContext,
  countingSource,
  createStatusScene,
  cronJobAnnotations,
  failureMessage,
  parseMetrics,
  runJobOf,
  seeEveryJobAgain,
  startTestStatusController,
  statusOutput,
  successMessage,
  workloadSample,
} from './status-fixtures.js';

const kube = inject('kube');

let kc: KubeConfig;
let control: string;
let shop: string;
let cronJob: V1CronJob;

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

const runJob = (exitCode: number, message: string | undefined) =>
  runJobOf(kc, cronJob, exitCode, message);
const podEvents = (reason: string) => eventsOf(kc, shop, 'postgres-0', reason);
const annotations = () => cronJobAnnotations(kc, cronJob);

async function scrape(metrics: Metrics) {
  return parseMetrics(await metrics.registry.metrics());
}

const sample = (
  samples: ReturnType<typeof parseMetrics>,
  name: string,
  extra: Record<string, string> = {},
) => workloadSample(samples, name, { namespace: shop, workload: 'postgres' }, extra);

const statusRows = async () => JSON.parse(await statusOutput(kube, control, 'json')) as StatusRow[];

beforeAll(async () => {
  ({ kc, control, shop, cronJob } = await createStatusScene(kube, 'sk-status'));
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

    const [event] = await eventually('BackupSucceeded', async () => {
      const evs = await podEvents('BackupSucceeded');
      return evs.length > 0 && evs;
    });
    expect(event!.type).toBe('Normal');
    expect(event!.message).toContain('120.6 KiB in 12.5s');
    expect(event!.message).toContain(job.metadata!.name!);

    const a = await eventually('status annotations', async () => {
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
    const s = await eventually('metrics', async () => {
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
    const [event] = await eventually('BackupFailed', async () => {
      const evs = await podEvents('BackupFailed');
      return evs.length > 0 && evs;
    });
    expect(event!.type).toBe('Warning');
    expect(event!.message).toContain('password authentication failed');

    await eventually(
      'the failure recorded',
      async () => (await annotations())[A.runsFailed] === '1',
    );
    await ctl.drained();
    const s = await eventually('failure metric', async () => {
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
    await eventually(
      'the failure recorded',
      async () => (await annotations())[A.runsFailed] === '2',
    );
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
    const s = await eventually('restored metrics', async () => {
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
    await seeEveryJobAgain(kc, control, jobs);
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

    const [event] = await eventually('BackupShrank', async () => {
      const evs = await podEvents('BackupShrank');
      return evs.length > 0 && evs;
    });
    expect(event!.type).toBe('Warning');
    expect(event!.message).toBe(`${sentence} (job ${name})`);
    // Still a success: BackupSucceeded for the same Job.
    expect((await podEvents('BackupSucceeded')).some((e) => e.message?.includes(name))).toBe(true);

    await eventually(
      'the shrink recorded',
      async () => (await annotations())[A.runsShrank] === '1',
    );
    const a = await annotations();
    expect(a[A.runsSucceeded]).toBe('2');
    expect(a[A.lastShrank]).toBe(sentence);
    await ctl.drained();
    const s = await eventually('shrank metric', async () => {
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
