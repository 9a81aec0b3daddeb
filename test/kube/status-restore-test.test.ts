// Finished restore-test Jobs → RestoreTestSucceeded / RestoreTestFailed, the
// restore-test metrics, the record on the restore-test CronJob and the LAST
// TEST column, against the real kube-apiserver and kube-controller-manager.
// The CronJobs are built by the real desired builders; the job controller
// makes the pods; the test plays the kubelet and writes the report (the
// shared formatReport) as the container's termination message. A restore
// test is never counted as a backup.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Registry } from 'prom-client';
import { BatchV1Api, type KubeConfig, type V1CronJob, type V1Job } from '@kubernetes/client-node';
import { loadOperatorConfig } from '../../src/config/operator.js';
import { desiredRestoreTestCronJob } from '../../src/desired/restore-test.js';
import { createMetrics, type Metrics } from '../../src/metrics/registry.js';
import type { ListWatchSource } from '../../src/kube/api.js';
import { formatReport, type RestoreTestReport } from '../../src/contract/restore-test-report.js';
import type { StatusController } from '../../src/status/controller.js';
import { jobSource } from '../../src/status/kube.js';
import { STATUS_ANNOTATIONS as A } from '../../src/labels.js';
import type { StatusRow } from '../../src/cli/status-table.js';
import { eventually, podEvents as eventsOf } from './fixtures.js';
import {
  countingSource,
  createStatusScene,
  cronJobAnnotations,
  parseMetrics,
  runJobOf,
  seeEveryJobAgain,
  startTestStatusController,
  statusOutput,
  workloadSample,
} from './status-fixtures.js';

const kube = inject('kube');

let kc: KubeConfig;
let batch: BatchV1Api;
let control: string;
let shop: string;
let backup: V1CronJob;
let restoreTest: V1CronJob;

function report(ok: boolean, mismatches: string[] = []): RestoreTestReport {
  const finished = new Date();
  return {
    kind: 'restore-test',
    ok,
    backup: `${shop}/postgres/20261120T030000Z/manifest.json`,
    startedAt: new Date(finished.getTime() - 95_000).toISOString(),
    finishedAt: finished.toISOString(),
    durationSeconds: 95,
    tables: 12,
    checks: 1,
    mismatches,
  };
}

function startController(
  metrics: Metrics,
  jobs: ListWatchSource<V1Job> = jobSource(kc, control),
): StatusController {
  return startTestStatusController(kc, control, {
    metrics,
    jobs,
    instance: 'status-rt-test',
    missedGraceSeconds: 60,
  });
}

async function runRestoreTest(exitCode: number, message: string | undefined) {
  const job = await runJobOf(kc, restoreTest, exitCode, message);
  expect(job.metadata!.labels!['snapkeeper.io/job-kind']).toBe('restore-test');
  return job;
}

const podEvents = (reason: string) => eventsOf(kc, shop, 'postgres-0', reason);
const annotationsOf = (cj: V1CronJob) => cronJobAnnotations(kc, cj);

const sample = (
  samples: ReturnType<typeof parseMetrics>,
  name: string,
  extra: Record<string, string> = {},
) => workloadSample(samples, name, { namespace: shop, workload: 'postgres' }, extra);

const status = (output: 'json' | 'table') => statusOutput(kube, control, output);

/** What a restore test must never touch: the backup record, its counters and its Events. */
async function expectBackupUntouched(metrics: Metrics) {
  const a = await annotationsOf(backup);
  for (const key of Object.values(A)) expect(a[key], key).toBeUndefined();
  const s = parseMetrics(await metrics.registry.metrics());
  expect(sample(s, 'snapkeeper_backup_runs_total', { result: 'success' })).toBe(0);
  expect(sample(s, 'snapkeeper_backup_runs_total', { result: 'failure' })).toBe(0);
  expect(sample(s, 'snapkeeper_backup_last_success_timestamp_seconds')).toBeUndefined();
  expect(sample(s, 'snapkeeper_backup_last_duration_seconds')).toBeUndefined();
  expect(sample(s, 'snapkeeper_backup_missed')).toBe(0);
  for (const reason of ['BackupSucceeded', 'BackupFailed', 'BackupMissed']) {
    expect(await podEvents(reason), reason).toEqual([]);
  }
}

beforeAll(async () => {
  ({ kc, control, shop, cronJob: backup } = await createStatusScene(kube, 'sk-strt'));
  batch = kc.makeApiClient(BatchV1Api);
  const config = loadOperatorConfig({
    SNAPKEEPER_CONTROL_NAMESPACE: control,
    SNAPKEEPER_WATCH_NAMESPACES: shop,
    SNAPKEEPER_STORAGE: 's3://backups/cluster',
  });
  restoreTest = await batch.createNamespacedCronJob({
    namespace: control,
    body: desiredRestoreTestCronJob({
      workload: { namespace: shop, kind: 'Deployment', name: 'postgres' },
      spec: {
        type: 'postgresql',
        schedule: '17 4 29 2 *',
        timezone: 'Etc/UTC',
        recipients: [],
        dumpOptions: [],
        suspend: false,
        // Once a year, at a time the suite never runs at: the test makes the Jobs.
        restoreTest: { schedule: '19 4 29 2 *', checks: ['select true'] },
      },
      config,
      sourcePod: 'postgres-0',
    }),
  });
});

describe('status controller: restore-test Jobs', () => {
  let metrics: Metrics;
  let ctl: StatusController | undefined;

  afterAll(async () => {
    await ctl?.stop();
  });

  it('given a passed restore test, then RestoreTestSucceeded, its record and metrics, LAST TEST in status, and nothing counted as a backup', async () => {
    metrics = createMetrics(new Registry());
    ctl = startController(metrics);
    await ctl.synced;
    // The restore-test series exist from the start (increase() sees the first failure).
    const before = parseMetrics(await metrics.registry.metrics());
    expect(sample(before, 'snapkeeper_restore_test_failures_total')).toBe(0);

    const passed = report(true);
    const job = await runRestoreTest(0, formatReport(passed));
    const [event] = await eventually('RestoreTestSucceeded', async () => {
      const evs = await podEvents('RestoreTestSucceeded');
      return evs.length > 0 && evs;
    });
    expect(event!.type).toBe('Normal');
    expect(event!.message).toBe(
      `restore test of ${shop}/postgres passed: 12 tables and 1 check as in the backup, in 1m35s ` +
        `(backup ${passed.backup}, job ${job.metadata!.name})`,
    );

    const a = await eventually('restore-test record', async () => {
      const x = await annotationsOf(restoreTest);
      return x[A.lastSuccess] ? x : undefined;
    });
    expect(a[A.lastSuccess]).toBe(passed.finishedAt);
    expect(a[A.lastKey]).toBe(passed.backup);
    expect(a[A.lastResult]).toBe('success');
    expect(a[A.runsSucceeded]).toBe('1');
    expect(a['snapkeeper.io/spec-hash']).toBe(
      restoreTest.metadata!.annotations!['snapkeeper.io/spec-hash'],
    );

    await ctl.drained();
    const s = await eventually('restore-test metrics', async () => {
      const x = parseMetrics(await metrics.registry.metrics());
      return sample(x, 'snapkeeper_restore_test_last_duration_seconds') === 95 && x;
    });
    expect(sample(s, 'snapkeeper_restore_test_last_success_timestamp_seconds')).toBe(
      Date.parse(passed.finishedAt) / 1000,
    );
    expect(sample(s, 'snapkeeper_restore_test_failures_total')).toBe(0);
    await expectBackupUntouched(metrics);

    const rows = JSON.parse(await status('json')) as StatusRow[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      workload: 'postgres',
      cronJob: backup.metadata!.name,
      lastSuccess: null,
      restoreTest: {
        cronJob: restoreTest.metadata!.name,
        schedule: '19 4 29 2 *',
        lastResult: 'success',
        lastTest: new Date(passed.finishedAt).toISOString(),
        lastBackup: passed.backup,
        testsSucceeded: 1,
        testsFailed: 0,
      },
    });
    const [header, line] = (await status('table')).trimEnd().split('\n');
    expect(line!.slice(header!.indexOf('LAST TEST'))).toMatch(/^ok \d{4}-\d\d-\d\dT\d\d:\d\dZ \(/);
  });

  it('given a failed restore test, then RestoreTestFailed with the first mismatch, the failure counted, the mismatch in status, and still no backup failure', async () => {
    const failed = report(false, [
      'orders: 120000 rows in the backup, 119412 restored',
      'check failed: select true → false',
    ]);
    const job = await runRestoreTest(1, formatReport(failed));
    const [event] = await eventually('RestoreTestFailed', async () => {
      const evs = await podEvents('RestoreTestFailed');
      return evs.length > 0 && evs;
    });
    expect(event!.type).toBe('Warning');
    expect(event!.message).toBe(
      `restore test of ${shop}/postgres failed: orders: 120000 rows in the backup, 119412 restored (and 1 more) ` +
        `(backup ${failed.backup}, job ${job.metadata!.name})`,
    );
    await eventually(
      'failure recorded',
      async () => (await annotationsOf(restoreTest))[A.runsFailed] === '1',
    );
    await ctl!.drained();
    const s = await eventually('failure counted', async () => {
      const x = parseMetrics(await metrics.registry.metrics());
      return sample(x, 'snapkeeper_restore_test_failures_total') === 1 && x;
    });
    expect(sample(s, 'snapkeeper_restore_test_last_duration_seconds')).toBe(95);
    await ctl!.checkMissed();
    await expectBackupUntouched(metrics);

    const [row] = JSON.parse(await status('json')) as StatusRow[];
    expect(row!.restoreTest).toMatchObject({
      lastResult: 'failure',
      lastError: 'orders: 120000 rows in the backup, 119412 restored (and 1 more)',
      testsSucceeded: 1,
      testsFailed: 1,
    });
    const [header, line] = (await status('table')).trimEnd().split('\n');
    expect(line!.slice(header!.indexOf('LAST TEST'))).toMatch(
      /^FAILED \S+ \(\S+ ago\)\s+restore test: orders: 120000 rows in the backup, 119412 restored \(and 1 more\)$/,
    );
  });

  it('given a restore-test Job that never wrote a report (deadline), then RestoreTestFailed says why', async () => {
    await runRestoreTest(137, undefined);
    const evs = await eventually('second RestoreTestFailed', async () => {
      const found = await podEvents('RestoreTestFailed');
      return found.length > 1 && found;
    });
    expect(evs.map((e) => e.message)).toContainEqual(
      expect.stringContaining('failed: restore test exited with code 137 (Error)'),
    );
    await eventually(
      'second failure recorded',
      async () => (await annotationsOf(restoreTest))[A.runsFailed] === '2',
    );
  });

  it('given a restart, then the restore-test metrics come back from the record, with no new Event and no double count', async () => {
    await ctl!.stop();
    const eventsBefore = [
      ...(await podEvents('RestoreTestSucceeded')),
      ...(await podEvents('RestoreTestFailed')),
    ].map((e) => [e.metadata?.name, e.count ?? 1]);
    metrics = createMetrics(new Registry());
    const jobs = countingSource(jobSource(kc, control));
    ctl = startController(metrics, jobs.source);
    await ctl.synced;
    await ctl.drained();
    const s = await eventually('restored metrics', async () => {
      const x = parseMetrics(await metrics.registry.metrics());
      return sample(x, 'snapkeeper_restore_test_failures_total') === 2 && x;
    });
    expect(sample(s, 'snapkeeper_restore_test_last_success_timestamp_seconds')).toBeGreaterThan(0);
    // Every finished Job comes by the new controller once more (a label
    // changes): one that did not know them recorded would record them again.
    await seeEveryJobAgain(kc, control, jobs);
    await ctl.drained();
    expect(
      sample(
        parseMetrics(await metrics.registry.metrics()),
        'snapkeeper_restore_test_failures_total',
      ),
    ).toBe(2);
    const eventsAfter = [
      ...(await podEvents('RestoreTestSucceeded')),
      ...(await podEvents('RestoreTestFailed')),
    ].map((e) => [e.metadata?.name, e.count ?? 1]);
    expect(eventsAfter).toEqual(eventsBefore);
    await expectBackupUntouched(metrics);
  });

  it('given the restore-test CronJob deleted, then its series go and the backup series stay', async () => {
    await batch.deleteNamespacedCronJob({ namespace: control, name: restoreTest.metadata!.name! });
    await eventually('restore-test series removed', async () => {
      const x = parseMetrics(await metrics.registry.metrics());
      return sample(x, 'snapkeeper_restore_test_failures_total') === undefined;
    });
    const s = parseMetrics(await metrics.registry.metrics());
    expect(sample(s, 'snapkeeper_restore_test_last_success_timestamp_seconds')).toBeUndefined();
    expect(sample(s, 'snapkeeper_backup_runs_total', { result: 'failure' })).toBe(0);
    expect(sample(s, 'snapkeeper_backup_missed')).toBe(0);
  });
});
