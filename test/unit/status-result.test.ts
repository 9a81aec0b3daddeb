import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { V1Job, V1Pod } from '@kubernetes/client-node';
import { jobResult, parseTerminationMessage } from '../../src/status/result.js';
import { STATUS_ANNOTATIONS as A } from '../../src/labels.js';
import {
  applyAnnotationPatch,
  readStatus,
  statusAnnotations,
} from '../../src/status/annotations.js';

const success = JSON.stringify({
  ok: true,
  manifestKey: 'shop/postgres/20261120T030000Z/manifest.json',
  objects: [{ key: 'shop/postgres/20261120T030000Z/app.sql.gz.age', bytes: 1234, sha256: 'ab' }],
  bytes: 1234,
  rawBytes: 5678,
  durationSeconds: 12.3,
  serverVersion: '15.4',
  startedAt: '2026-11-20T03:00:00.000Z',
  finishedAt: '2026-11-20T03:00:12.300Z',
});
const failure = JSON.stringify({
  ok: false,
  error: 'pg_dump exited with code 1: FATAL: password authentication failed',
  durationSeconds: 0.4,
  startedAt: '2026-11-20T03:00:00.000Z',
  finishedAt: '2026-11-20T03:00:00.400Z',
});

describe('parseTerminationMessage', () => {
  it('given the documented success line, then it is read', () => {
    const m = parseTerminationMessage(success);
    expect(m).toMatchObject({ readable: true, ok: true, bytes: 1234, durationSeconds: 12.3 });
  });

  it('given the documented failure line, then the error is read', () => {
    expect(parseTerminationMessage(failure)).toMatchObject({
      readable: true,
      ok: false,
      error: expect.stringContaining('password authentication failed'),
    });
  });

  it('given log lines before the result (FallbackToLogsOnError), then the last JSON line is used', () => {
    expect(parseTerminationMessage(`INFO starting\nINFO 50%\n${success}\n`)).toMatchObject({
      readable: true,
      ok: true,
    });
  });

  it('given a truncated message, then a failure that says so', () => {
    const m = parseTerminationMessage(success.slice(0, 60));
    expect(m).toMatchObject({ readable: false, ok: false });
    expect(m.ok === false && m.error).toMatch(/^termination message truncated/);
  });

  it.each([
    ['empty', '', 'no termination message'],
    ['undefined', undefined, 'no termination message'],
    ['plain text', 'Error: boom', 'not a snapkeeper result'],
    ['JSON of another shape', '{"hello":1}', 'not a snapkeeper result'],
    ['ok of a wrong type', '{"ok":"yes"}', 'not a snapkeeper result'],
  ])('given %s, then an unreadable failure (never throws)', (_n, text, why) => {
    const m = parseTerminationMessage(text);
    expect(m.readable).toBe(false);
    expect(m.ok === false && m.error).toContain(why);
  });

  it('given any string, then it never throws', () => {
    // A cut of a real result with ASCII noise after it, and any string at all.
    const noise = fc.string({
      unit: fc.integer({ min: 0, max: 127 }).map((c) => String.fromCharCode(c)),
      maxLength: 20,
    });
    const text = fc.oneof(
      fc.tuple(fc.nat({ max: success.length }), noise).map(([n, x]) => success.slice(0, n) + x),
      fc.string({ unit: 'grapheme', maxLength: 40 }),
    );
    fc.assert(
      fc.property(text, (t) => {
        expect(() => parseTerminationMessage(t)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });
});

function job(
  condition: 'Complete' | 'Failed' | undefined,
  extra: Partial<V1Job['status']> = {},
): V1Job {
  return {
    metadata: { name: 'shop-postgres-29100000', uid: 'job-uid-1', namespace: 'snapkeeper' },
    status: {
      startTime: new Date('2026-11-20T03:00:00Z'),
      ...(condition
        ? {
            conditions: [
              {
                type: condition,
                status: 'True',
                reason: condition === 'Failed' ? 'BackoffLimitExceeded' : undefined,
                message:
                  condition === 'Failed'
                    ? 'Job has reached the specified backoff limit'
                    : undefined,
                lastTransitionTime: new Date('2026-11-20T03:00:20Z'),
              },
            ],
          }
        : {}),
      ...(condition === 'Complete' ? { completionTime: new Date('2026-11-20T03:00:20Z') } : {}),
      ...extra,
    },
  };
}

function pod(
  name: string,
  created: string,
  terminated: { exitCode: number; message?: string; reason?: string },
  owner = 'job-uid-1',
): V1Pod {
  return {
    metadata: {
      name,
      creationTimestamp: new Date(created),
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'Job', name: 'shop-postgres-29100000', uid: owner },
      ],
    },
    status: {
      containerStatuses: [
        {
          name: 'dump',
          image: 'x',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { terminated: { ...terminated, finishedAt: new Date('2026-11-20T03:00:19Z') } },
        },
      ],
    },
  };
}

describe('jobResult', () => {
  it('given a running Job, then no result', () => {
    expect(jobResult(job(undefined), [])).toBeUndefined();
  });

  it('given a complete Job with the dumper result, then size, duration, key and time come from it', () => {
    const r = jobResult(job('Complete'), [
      pod('p1', '2026-11-20T03:00:00Z', { exitCode: 0, message: success }),
    ]);
    expect(r).toEqual({
      ok: true,
      bytes: 1234,
      durationSeconds: 12.3,
      finishedAt: new Date('2026-11-20T03:00:12.300Z'),
      key: 'shop/postgres/20261120T030000Z/manifest.json',
      jobName: 'shop-postgres-29100000',
      jobUid: 'job-uid-1',
    });
  });

  it('given a success that shrank, then still a success, carrying the dumper’s sentence', () => {
    const sentence =
      'the backup shrank: 1000 rows fewer (1010 → 10, -99%); tables gone: app: public.orders';
    const message = JSON.stringify({ ...JSON.parse(success), shrank: sentence });
    expect(parseTerminationMessage(message)).toMatchObject({ readable: true, shrank: sentence });
    const r = jobResult(job('Complete'), [
      pod('p1', '2026-11-20T03:00:00Z', { exitCode: 0, message }),
    ]);
    expect(r).toMatchObject({ ok: true, bytes: 1234, shrank: sentence });
    expect(r?.reason).toBeUndefined();
    // A long sentence is cut like any reason; a blank one is no shrink.
    const long = JSON.stringify({ ...JSON.parse(success), shrank: 'x'.repeat(2000) });
    expect(
      jobResult(job('Complete'), [pod('p', '2026-11-20T03:00:00Z', { exitCode: 0, message: long })])
        ?.shrank,
    ).toHaveLength(512);
    const blank = JSON.stringify({ ...JSON.parse(success), shrank: ' ' });
    expect(
      jobResult(job('Complete'), [
        pod('p', '2026-11-20T03:00:00Z', { exitCode: 0, message: blank }),
      ]),
    ).not.toHaveProperty('shrank');
  });

  it('given a complete Job whose pod has no message, then success from the Job, with a note and the Job times', () => {
    const r = jobResult(job('Complete'), [pod('p1', '2026-11-20T03:00:00Z', { exitCode: 0 })]);
    expect(r).toMatchObject({ ok: true, reason: 'no termination message', durationSeconds: 20 });
    expect(r?.bytes).toBeUndefined();
    expect(r?.finishedAt.toISOString()).toBe('2026-11-20T03:00:20.000Z');
  });

  it('given a failed Job, then the newest pod’s dumper error is the reason', () => {
    const r = jobResult(job('Failed'), [
      pod('old', '2026-11-20T03:00:00Z', {
        exitCode: 1,
        message: '{"ok":false,"error":"older attempt"}',
      }),
      pod('new', '2026-11-20T03:00:05Z', { exitCode: 1, message: failure }),
    ]);
    expect(r).toMatchObject({
      ok: false,
      reason: expect.stringContaining('password authentication failed'),
      durationSeconds: 0.4,
    });
  });

  it('given a failed Job with no message, then the exit code and reason explain it', () => {
    const r = jobResult(job('Failed'), [
      pod('p', '2026-11-20T03:00:00Z', { exitCode: 137, reason: 'OOMKilled' }),
    ]);
    expect(r?.reason).toBe('dumper exited with code 137 (OOMKilled)');
  });

  it('given a failed Job with no pods at all, then the Job condition explains it', () => {
    const r = jobResult(job('Failed'), []);
    expect(r?.reason).toBe('BackoffLimitExceeded: Job has reached the specified backoff limit');
  });

  it('given pods of another Job, then they are ignored', () => {
    const r = jobResult(job('Failed'), [
      pod('p', '2026-11-20T03:00:00Z', { exitCode: 1, message: failure }, 'other'),
    ]);
    expect(r?.reason).toMatch(/^BackoffLimitExceeded/);
  });
});

describe('statusAnnotations', () => {
  const ok = jobResult(job('Complete'), [
    pod('p1', '2026-11-20T03:00:00Z', { exitCode: 0, message: success }),
  ])!;
  const bad = {
    ...jobResult(job('Failed'), [
      pod('p', '2026-11-20T03:00:00Z', { exitCode: 1, message: failure }),
    ])!,
    jobUid: 'job-uid-2',
    jobName: 'manual',
    finishedAt: new Date('2026-11-21T03:00:00Z'),
  };

  it('given a first success, then the record holds it', () => {
    const patch = statusAnnotations(ok, undefined)!;
    expect(patch).toMatchObject({
      [A.lastSuccess]: '2026-11-20T03:00:12.300Z',
      [A.lastSize]: '1234',
      [A.lastDuration]: '12.3',
      [A.lastResult]: 'success',
      [A.runsSucceeded]: '1',
      [A.recordedJobs]: 'job-uid-1',
    });
  });

  it('given the same Job again (restart), then nothing to record', () => {
    const after = applyAnnotationPatch({ other: 'kept' }, statusAnnotations(ok, undefined)!);
    expect(after.other).toBe('kept');
    expect(statusAnnotations(ok, after)).toBeUndefined();
  });

  it('given a later failure, then the last success stays and the error is recorded', () => {
    const a1 = applyAnnotationPatch({}, statusAnnotations(ok, undefined)!);
    const a2 = applyAnnotationPatch(a1, statusAnnotations(bad, a1)!);
    const s = readStatus(a2);
    expect(s).toMatchObject({
      lastSuccess: new Date('2026-11-20T03:00:12.300Z'),
      lastSizeBytes: 1234,
      lastResult: 'failure',
      lastError: expect.stringContaining('password'),
      runsSucceeded: 1,
      runsFailed: 1,
      recordedJobs: ['job-uid-1', 'job-uid-2'],
      lastJob: 'manual',
    });
  });

  it('given an older run recorded after a newer one, then the newer "last" values stay', () => {
    const a1 = applyAnnotationPatch({}, statusAnnotations(bad, undefined)!);
    const a2 = applyAnnotationPatch(a1, statusAnnotations(ok, a1)!);
    expect(readStatus(a2)).toMatchObject({
      lastResult: 'failure',
      lastJob: 'manual',
      runsSucceeded: 1,
      runsFailed: 1,
    });
    expect(readStatus(a2).lastSuccess?.toISOString()).toBe('2026-11-20T03:00:12.300Z');
  });

  it('given a success that shrank, then it counts as a success and a shrink; a later plain success clears the sentence, not the count', () => {
    const sentence = 'the backup shrank: 5000 bytes fewer in the dump (6000 → 1000, -83%)';
    const shrank = { ...ok, shrank: sentence };
    const a1 = applyAnnotationPatch({}, statusAnnotations(shrank, undefined)!);
    expect(a1).toMatchObject({
      [A.runsSucceeded]: '1',
      [A.runsShrank]: '1',
      [A.lastShrank]: sentence,
      [A.lastResult]: 'success',
    });
    expect(a1[A.lastError]).toBeUndefined();
    expect(readStatus(a1)).toMatchObject({ runsShrank: 1, lastShrank: sentence, runsFailed: 0 });

    const later = { ...ok, jobUid: 'job-uid-3', finishedAt: new Date('2026-11-21T03:00:12Z') };
    const p2 = statusAnnotations(later, a1)!;
    expect(p2[A.lastShrank]).toBeNull();
    expect(p2).not.toHaveProperty(A.runsShrank);
    const a2 = applyAnnotationPatch(a1, p2);
    expect(readStatus(a2)).toMatchObject({
      runsSucceeded: 2,
      runsShrank: 1,
      lastShrank: undefined,
    });

    // A failure neither counts as a shrink nor touches the sentence.
    const a3 = applyAnnotationPatch(a1, statusAnnotations(bad, a1)!);
    expect(readStatus(a3)).toMatchObject({ runsShrank: 1, lastShrank: sentence, runsFailed: 1 });
    // A plain success with no shrink recorded before writes no shrink key at all.
    expect(Object.keys(statusAnnotations(ok, undefined)!)).not.toContain(A.lastShrank);
  });

  it('given many runs, then only the last 20 uids are remembered', () => {
    let a: Record<string, string> = {};
    for (let i = 0; i < 25; i++)
      a = applyAnnotationPatch(a, statusAnnotations({ ...ok, jobUid: `u${i}` }, a)!);
    const s = readStatus(a);
    expect(s.recordedJobs).toHaveLength(20);
    expect(s.recordedJobs[19]).toBe('u24');
    expect(s.runsSucceeded).toBe(25);
  });

  it('given garbled annotations, then they read as absent', () => {
    expect(
      readStatus({ [A.lastSuccess]: 'yesterday', [A.lastSize]: '-3', [A.runsFailed]: 'x' }),
    ).toMatchObject({
      lastSuccess: undefined,
      lastSizeBytes: undefined,
      runsFailed: 0,
    });
  });
});
