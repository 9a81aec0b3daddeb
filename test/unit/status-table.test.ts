import { describe, expect, it } from 'vitest';
import type { V1CronJob } from '@kubernetes/client-node';
import { formatStatusTable, relative, statusRows } from '../../src/cli/status-table.js';
import { jobFromCronJob, parseWorkloadRef, triggerBackup } from '../../src/cli/trigger-job.js';
import { STATUS_ANNOTATIONS as A } from '../../src/labels.js';
import { UserError } from '../../src/errors.js';
import type { BackupSpec, RestoreTestSpec } from '../../src/annotations/index.js';
import { loadOperatorConfig } from '../../src/config/operator.js';
import { desiredCronJob } from '../../src/desired/cronjob.js';
import { desiredRestoreTestCronJob } from '../../src/desired/restore-test.js';
import type { WorkloadRef } from '../../src/workload.js';
import { postgresSpec } from './desired-fixture.js';

const now = new Date('2026-11-20T12:00:00Z');

function cronJob(
  name: string,
  workload: string,
  extra: Partial<V1CronJob['spec']> = {},
  annotations: Record<string, string> = {},
): V1CronJob {
  return {
    metadata: {
      name,
      namespace: 'snapkeeper',
      uid: `uid-${name}`,
      labels: {
        'app.kubernetes.io/managed-by': 'snapkeeper',
        'snapkeeper.io/workload-namespace': 'shop',
        'snapkeeper.io/workload-name': workload.slice(0, 63),
        'snapkeeper.io/workload-kind': 'StatefulSet',
        'snapkeeper.io/type': 'mariadb',
      },
      // As the operator writes it: the full key, whatever the label length.
      annotations: { 'snapkeeper.io/workload': `shop/StatefulSet/${workload}`, ...annotations },
    },
    spec: {
      schedule: '0 3 * * *',
      timeZone: 'Europe/Paris',
      jobTemplate: {
        metadata: { labels: { 'snapkeeper.io/workload-name': workload.slice(0, 63) } },
        spec: {
          backoffLimit: 1,
          template: {
            spec: {
              restartPolicy: 'Never',
              containers: [
                {
                  name: 'dump',
                  image: 'd',
                  env: [{ name: 'SNAPKEEPER_WORKLOAD_NAME', value: workload }],
                },
              ],
            },
          },
        },
      },
      ...extra,
    },
  };
}

describe('statusRows', () => {
  it('given CronJobs with and without a record, then one row each, sorted, with the next run in the zone', () => {
    const rows = statusRows(
      [
        cronJob(
          'b',
          'zeta',
          {},
          {
            [A.lastSuccess]: '2026-11-20T02:00:12Z',
            [A.lastSize]: '1536',
            [A.lastDuration]: '3.2',
            [A.lastResult]: 'success',
          },
        ),
        cronJob('a', 'alpha', { suspend: true }),
        { metadata: { name: 'foreign', labels: {} }, spec: cronJob('x', 'x').spec },
      ],
      now,
    );
    expect(rows.map((r) => r.workload)).toEqual(['alpha', 'zeta']);
    expect(rows[0]).toMatchObject({
      suspended: true,
      nextRun: null,
      lastSuccess: null,
      runsSucceeded: 0,
    });
    expect(rows[1]).toMatchObject({
      engine: 'mariadb',
      kind: 'StatefulSet',
      timezone: 'Europe/Paris',
      nextRun: '2026-11-21T02:00:00.000Z',
      lastSuccess: '2026-11-20T02:00:12.000Z',
      lastSizeBytes: 1536,
      lastDurationSeconds: 3.2,
      lastError: null,
    });
  });

  it('given a workload name longer than a label value, then the full name from the workload annotation', () => {
    const long = 'a'.repeat(80);
    expect(statusRows([cronJob('c', long)], now)[0]!.workload).toBe(long);
  });

  it('given a failure after a success, then the table shows the error, and not once a success follows', () => {
    const failing = cronJob(
      'b',
      'db',
      {},
      {
        [A.lastSuccess]: '2026-11-19T02:00:12Z',
        [A.lastResult]: 'failure',
        [A.lastError]: 'mariadb-dump exited with code 2: Access denied',
        [A.lastFailure]: '2026-11-20T02:00:01Z',
      },
    );
    const table = formatStatusTable(statusRows([failing], now), now);
    const [header, line] = table.trimEnd().split('\n');
    expect(header).toMatch(
      /^NAMESPACE\s+WORKLOAD\s+ENGINE\s+SCHEDULE\s+TIMEZONE\s+NEXT RUN\s+LAST SUCCESS\s+LAST SIZE\s+LAST DURATION\s+LAST ERROR$/,
    );
    expect(line).toContain('2026-11-19T02:00Z (34h ago)');
    expect(line).toContain('2026-11-21T02:00Z (in 14h)');
    expect(line).toMatch(/Access denied$/);
    // Columns line up: each cell starts where its header does.
    expect(line!.indexOf('mariadb')).toBe(header!.indexOf('ENGINE'));

    failing.metadata!.annotations![A.lastResult] = 'success';
    expect(formatStatusTable(statusRows([failing], now), now)).not.toContain('Access denied');
  });

  it('given a newest success that shrank, then LAST ERROR shows the sentence until the next run', () => {
    const sentence = 'the backup shrank: 1000 rows fewer (1010 → 10, -99%)';
    const cj = cronJob(
      'b',
      'db',
      {},
      {
        [A.lastSuccess]: '2026-11-20T02:00:12Z',
        [A.lastResult]: 'success',
        [A.lastShrank]: sentence,
        [A.runsSucceeded]: '3',
        [A.runsShrank]: '1',
      },
    );
    expect(statusRows([cj], now)[0]).toMatchObject({
      lastResult: 'success',
      lastShrank: sentence,
      lastError: null,
      runsShrank: 1,
    });
    const line = formatStatusTable(statusRows([cj], now), now)
      .trimEnd()
      .split('\n')[1];
    expect(line).toMatch(/1000 rows fewer \(1010 → 10, -99%\)$/);

    // A failure after it: the failure is the newest result, and the only one shown.
    cj.metadata!.annotations![A.lastResult] = 'failure';
    cj.metadata!.annotations![A.lastError] = 'dumper exited with code 137 (OOMKilled)';
    const table = formatStatusTable(statusRows([cj], now), now);
    expect(table).toContain('OOMKilled');
    expect(table).not.toContain('shrank');
  });

  it('relative times', () => {
    expect(relative('2026-11-20T11:59:30Z', now)).toBe('30s ago');
    expect(relative('2026-11-20T13:00:00Z', now)).toBe('in 60m');
    expect(relative('2026-11-23T12:00:00Z', now)).toBe('in 3d');
    expect(relative(null, now)).toBe('-');
  });
});

describe('statusRows, on CronJobs as the operator builds them', () => {
  const config = loadOperatorConfig({
    SNAPKEEPER_CONTROL_NAMESPACE: 'snapkeeper',
    SNAPKEEPER_WATCH_NAMESPACES: 'shop',
    SNAPKEEPER_STORAGE: 's3://backups/prod',
  });
  const spec = {
    ...postgresSpec,
    restoreTest: { schedule: '41 5 * * *', checks: [] },
  } as BackupSpec & { restoreTest: RestoreTestSpec };

  it.each([
    ['a short name', 'postgres'],
    ['a name longer than a label value', `pg-${'n'.repeat(100)}`],
  ])(
    'given %s, with a backup and a restore test, then one row, its full name, its restore test',
    (_what, name) => {
      const workload: WorkloadRef = { namespace: 'shop', kind: 'StatefulSet', name };
      const input = { workload, spec, config, sourcePod: 'shop/pg-0' };
      const rows = statusRows(
        [
          desiredCronJob({
            ...input,
            target: { host: 'pg.shop.svc', port: 5432 },
            credentials: { hasUsername: true, hasPassword: true, hasDatabase: false },
          }),
          desiredRestoreTestCronJob(input),
        ],
        now,
      );
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ namespace: 'shop', workload: name, kind: 'StatefulSet' });
      expect(rows[0]!.restoreTest).toMatchObject({ schedule: '41 5 * * *' });
    },
  );
});

describe('trigger (pure parts)', () => {
  it.each([
    ['shop/postgres', { namespace: 'shop', name: 'postgres' }],
    [' shop/pg.primary ', { namespace: 'shop', name: 'pg.primary' }],
  ])('parses %s', (ref, want) => expect(parseWorkloadRef(ref)).toEqual(want));

  it.each(['postgres', 'shop/', '/postgres', 'Shop/postgres', 'a/b/c'])(
    'rejects %s as a user mistake',
    (ref) => {
      expect(() => parseWorkloadRef(ref)).toThrow(UserError);
    },
  );

  it('given a CronJob with a 52-character name, then the Job name stays within 63 and the template is copied', () => {
    const cj = cronJob('snapkeeper-shop-a-very-long-workload-name-1-abcdef12', 'w');
    expect(cj.metadata!.name!.length).toBe(52);
    const job = jobFromCronJob(cj, new Date('2026-11-20T12:00:00Z'));
    expect(job.metadata!.name!.length).toBeLessThanOrEqual(63);
    expect(job.metadata!.name).toBe(
      'snapkeeper-shop-a-very-long-workload-name-1-a-manual-1795176000',
    );
    expect(job.metadata!.annotations).toEqual({ 'cronjob.kubernetes.io/instantiate': 'manual' });
    expect(job.metadata!.ownerReferences).toEqual([
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        name: cj.metadata!.name,
        uid: cj.metadata!.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(job.spec).toEqual(cj.spec!.jobTemplate.spec);
    expect(job.metadata!.labels).toEqual(cj.spec!.jobTemplate.metadata!.labels);
  });

  it('given several CronJobs in the namespace, then the one of that workload is used; none is a user mistake', async () => {
    const created: string[] = [];
    const api = {
      findCronJobs: async () => [cronJob('a', 'alpha'), cronJob('b', 'beta')],
      createJob: async (j: { metadata?: { name?: string } }) => (
        created.push(j.metadata!.name!),
        j
      ),
    };
    const job = await triggerBackup(api, 'snapkeeper', { namespace: 'shop', name: 'beta' }, now);
    expect(job.metadata!.ownerReferences![0]!.name).toBe('b');
    await expect(
      triggerBackup(api, 'snapkeeper', { namespace: 'shop', name: 'gamma' }, now),
    ).rejects.toThrow('no snapkeeper backup for shop/gamma in namespace snapkeeper');
    expect(created).toHaveLength(1);
  });

  it('given a workload with a backup and a restore-test CronJob, then trigger runs the backup one', async () => {
    const created: string[] = [];
    const rt = cronJob('b-rt', 'beta');
    rt.metadata!.labels!['snapkeeper.io/job-kind'] = 'restore-test';
    const api = {
      findCronJobs: async () => [rt, cronJob('b', 'beta')],
      createJob: async (j: { metadata?: { name?: string } }) => (
        created.push(j.metadata!.name!),
        j
      ),
    };
    const job = await triggerBackup(api, 'snapkeeper', { namespace: 'shop', name: 'beta' }, now);
    expect(job.metadata!.ownerReferences![0]!.name).toBe('b');
    expect(created).toEqual([job.metadata!.name]);
  });
});
