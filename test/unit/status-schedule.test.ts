import { describe, expect, it } from 'vitest';
import { isMissed, missedSince, nextRun } from '../../src/status/schedule.js';

const HOUR = 3600;

describe('nextRun', () => {
  it('given a daily schedule in UTC, when asked after 03:00, then it is 03:00 the next day', () => {
    expect(nextRun('0 3 * * *', 'Etc/UTC', new Date('2026-11-20T03:00:05Z'))?.toISOString()).toBe(
      '2026-11-21T03:00:00.000Z',
    );
  });

  it('given a time zone, then the run is at that zone’s wall-clock time', () => {
    // 03:00 in Paris is 02:00 UTC in winter.
    expect(
      nextRun('0 3 * * *', 'Europe/Paris', new Date('2026-11-20T00:00:00Z'))?.toISOString(),
    ).toBe('2026-11-20T02:00:00.000Z');
  });

  it('given a CRON_TZ prefix, then the prefix zone wins', () => {
    expect(
      nextRun(
        'CRON_TZ=America/New_York 0 3 * * *',
        undefined,
        new Date('2026-11-20T00:00:00Z'),
      )?.toISOString(),
    ).toBe('2026-11-20T08:00:00.000Z');
  });

  it('given @daily, then it is midnight', () => {
    expect(nextRun('@daily', 'Etc/UTC', new Date('2026-11-20T12:00:00Z'))?.toISOString()).toBe(
      '2026-11-21T00:00:00.000Z',
    );
  });

  it('given garbage, then undefined (never throws)', () => {
    expect(nextRun('not a schedule', 'Etc/UTC', new Date())).toBeUndefined();
    expect(nextRun('0 3 * * *', 'Not/AZone', new Date())).toBeUndefined();
  });
});

describe('isMissed', () => {
  const schedule = '0 3 * * *';
  const grace = HOUR;

  const cases: Array<[string, string | undefined, string, string | undefined, boolean]> = [
    // [name, lastSuccess, now, createdAt, missed]
    [
      'success today, before the next run',
      '2026-11-20T03:00:12Z',
      '2026-11-20T20:00:00Z',
      undefined,
      false,
    ],
    [
      'success yesterday, next run due but within grace',
      '2026-11-19T03:00:12Z',
      '2026-11-20T03:59:00Z',
      undefined,
      false,
    ],
    [
      'success yesterday, next run past its grace',
      '2026-11-19T03:00:12Z',
      '2026-11-20T04:00:01Z',
      undefined,
      true,
    ],
    ['success a week ago', '2026-11-13T03:00:12Z', '2026-11-20T12:00:00Z', undefined, true],
    [
      'fresh CronJob, first run not yet due',
      undefined,
      '2026-11-20T02:00:00Z',
      '2026-11-20T01:00:00Z',
      false,
    ],
    [
      'fresh CronJob, first run within grace',
      undefined,
      '2026-11-20T03:30:00Z',
      '2026-11-20T01:00:00Z',
      false,
    ],
    [
      'fresh CronJob, first run past grace and no success',
      undefined,
      '2026-11-20T04:00:01Z',
      '2026-11-20T01:00:00Z',
      true,
    ],
    [
      'no success and no creation time: cannot tell',
      undefined,
      '2026-11-20T04:00:01Z',
      undefined,
      false,
    ],
  ];
  it.each(cases)('given %s, then missed=%s', (_name, last, now, created, missed) => {
    expect(
      isMissed(
        schedule,
        'Etc/UTC',
        last ? new Date(last) : undefined,
        new Date(now),
        grace,
        created ? new Date(created) : undefined,
      ),
    ).toBe(missed);
  });

  it('given an hourly schedule, then a 2h-old success with a 30m grace is missed', () => {
    expect(
      isMissed(
        '0 * * * *',
        'Etc/UTC',
        new Date('2026-11-20T10:00:30Z'),
        new Date('2026-11-20T11:31:00Z'),
        1800,
      ),
    ).toBe(true);
    expect(
      isMissed(
        '0 * * * *',
        'Etc/UTC',
        new Date('2026-11-20T10:00:30Z'),
        new Date('2026-11-20T11:29:00Z'),
        1800,
      ),
    ).toBe(false);
  });

  it('given a workload that stays missed, then the missed run is stable (dedup key)', () => {
    const last = new Date('2026-11-19T03:00:12Z');
    const a = missedSince(schedule, 'Etc/UTC', last, new Date('2026-11-20T05:00:00Z'), grace);
    const b = missedSince(schedule, 'Etc/UTC', last, new Date('2026-11-22T05:00:00Z'), grace);
    expect(a?.toISOString()).toBe('2026-11-20T03:00:00.000Z');
    expect(b?.toISOString()).toBe(a?.toISOString());
  });

  it('given an invalid schedule, then not missed', () => {
    expect(isMissed('bogus', 'Etc/UTC', new Date(0), new Date(), 0)).toBe(false);
  });
});
