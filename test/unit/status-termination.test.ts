// The pods walker of finished Jobs (findTermination in src/status/result.ts),
// shared by the backup result and the restore-test result: which container's
// end each one takes when a Job has several pods, or a pod several containers.
import { describe, expect, it } from 'vitest';
import type { V1ContainerStatus, V1Job, V1Pod } from '@kubernetes/client-node';
import { formatReport, type RestoreTestReport } from '../../src/contract/restore-test-report.js';
import { restoreTestJobResult } from '../../src/status/restore-test.js';
import { findTermination, jobResult } from '../../src/status/result.js';

const uid = 'job-uid-1';
const job = (condition: 'Complete' | 'Failed'): V1Job => ({
  metadata: { name: 'j', uid },
  status: {
    startTime: new Date('2026-11-20T05:00:00Z'),
    conditions: [
      {
        type: condition,
        status: 'True',
        lastTransitionTime: new Date('2026-11-20T05:02:05Z'),
        ...(condition === 'Failed' ? { reason: 'BackoffLimitExceeded' } : {}),
      },
    ],
  },
});
const ended = (
  name: string,
  exitCode: number,
  message?: string,
  where: 'state' | 'lastState' = 'state',
  reason?: string,
): V1ContainerStatus => ({
  name,
  image: 'i',
  imageID: '',
  ready: false,
  restartCount: 0,
  [where]: {
    terminated: {
      exitCode,
      ...(message !== undefined ? { message } : {}),
      ...(reason !== undefined ? { reason } : {}),
      finishedAt: new Date('2026-11-20T05:02:04Z'),
    },
  },
});
const running = (name: string): V1ContainerStatus => ({
  name,
  image: 'i',
  imageID: '',
  ready: true,
  restartCount: 0,
  state: { running: { startedAt: new Date('2026-11-20T05:00:01Z') } },
});
const pod = (created: string, ...containerStatuses: V1ContainerStatus[]): V1Pod => ({
  metadata: {
    name: `p-${created}`,
    creationTimestamp: new Date(created),
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'j', uid }],
  },
  status: { containerStatuses },
});

const dumperFailure = JSON.stringify({
  ok: false,
  error: 'pg_dump: connection refused',
  durationSeconds: 1,
  startedAt: '2026-11-20T05:00:00.000Z',
  finishedAt: '2026-11-20T05:00:01.000Z',
});
const dumperSuccess = JSON.stringify({
  ok: true,
  manifestKey: 'shop/postgres/x/manifest.json',
  objects: [],
  bytes: 77,
  rawBytes: 100,
  durationSeconds: 3,
  serverVersion: '16',
  startedAt: '2026-11-20T05:00:00.000Z',
  finishedAt: '2026-11-20T05:00:03.000Z',
});
const report: RestoreTestReport = {
  kind: 'restore-test',
  ok: false,
  backup: 'shop/postgres/x/manifest.json',
  startedAt: '2026-11-20T05:00:00.000Z',
  finishedAt: '2026-11-20T05:02:03.000Z',
  durationSeconds: 123,
  tables: 2,
  checks: 0,
  mismatches: ['orders: 12 rows in the backup, 11 restored'],
};

describe('findTermination', () => {
  const read = (m: string | undefined) => (m?.startsWith('want') ? m : undefined);
  const wanted = (r: string | undefined) => r !== undefined;

  it('given no terminated container, then nothing', () => {
    expect(findTermination([pod('2026-11-20T05:00:00Z', running('a'))], read, wanted)).toBe(
      undefined,
    );
    expect(findTermination([], read, wanted)).toBe(undefined);
  });

  it('given a wanted message in a later container or pod, then it wins over the earlier ends', () => {
    const found = findTermination(
      [
        pod('2026-11-20T05:00:09Z', ended('sidecar', 0, 'bye'), running('x')),
        pod('2026-11-20T05:00:00Z', ended('a', 1, 'noise'), ended('b', 2, 'want this')),
      ],
      read,
      wanted,
    );
    expect(found).toEqual({
      end: {
        message: 'want this',
        exitCode: 2,
        reason: undefined,
        finishedAt: new Date('2026-11-20T05:02:04Z'),
      },
      reading: 'want this',
    });
  });

  it('given no wanted message, then the first terminated container, its last state if need be', () => {
    const found = findTermination(
      [
        pod(
          '2026-11-20T05:00:00Z',
          running('x'),
          ended('a', 137, 'noise', 'lastState', 'OOMKilled'),
        ),
      ],
      read,
      wanted,
    );
    expect(found).toMatchObject({
      end: { message: 'noise', exitCode: 137, reason: 'OOMKilled' },
      reading: undefined,
    });
  });
});

describe('the walker, as the backup result uses it: per pod, the newest pod first', () => {
  it('given a sidecar that ended before the dumper in one pod, then the dumper’s result is read', () => {
    const r = jobResult(job('Complete'), [
      pod('2026-11-20T05:00:00Z', ended('istio-proxy', 0, 'bye'), ended('dump', 0, dumperSuccess)),
    ]);
    expect(r).toMatchObject({ ok: true, bytes: 77, key: 'shop/postgres/x/manifest.json' });
    expect(r?.reason).toBeUndefined();
  });

  it('given a failed Job whose newest pod has no result, then its exit code, not an older pod’s result', () => {
    const r = jobResult(job('Failed'), [
      pod('2026-11-20T05:00:00Z', ended('dump', 1, dumperFailure)),
      pod('2026-11-20T05:01:00Z', ended('dump', 137, undefined, 'state', 'OOMKilled')),
    ]);
    expect(r).toMatchObject({ ok: false, reason: 'dumper exited with code 137 (OOMKilled)' });
  });
});

describe('the walker, as the restore-test result uses it: the first container with a report, in any pod', () => {
  it('given a newest pod without a report and an older one with one, then the report', () => {
    const r = restoreTestJobResult(job('Failed'), [
      pod('2026-11-20T05:01:00Z', ended('restore-test', 1, 'killed')),
      pod('2026-11-20T05:00:00Z', ended('restore-test', 1, formatReport(report))),
    ]);
    expect(r).toMatchObject({
      ok: false,
      reason: 'orders: 12 rows in the backup, 11 restored',
      backup: report.backup,
      mismatches: 1,
    });
  });

  it('given a sidecar that ended first in the pod, then the restore-test container’s report', () => {
    const r = restoreTestJobResult(job('Complete'), [
      pod(
        '2026-11-20T05:00:00Z',
        ended('istio-proxy', 0, 'bye'),
        ended('restore-test', 0, formatReport({ ...report, ok: true, mismatches: [] })),
      ),
    ]);
    expect(r).toMatchObject({ ok: true, backup: report.backup, tables: 2, mismatches: 0 });
    expect(r?.reason).toBeUndefined();
  });

  it('given no report anywhere, then the first terminated container explains the failure', () => {
    const r = restoreTestJobResult(job('Failed'), [
      pod('2026-11-20T05:01:00Z', running('sidecar'), ended('restore-test', 2, 'bad flag')),
      pod('2026-11-20T05:00:00Z', ended('restore-test', 1, 'older')),
    ]);
    expect(r).toMatchObject({ ok: false, reason: 'restore test exited with code 2: bad flag' });
  });
});
