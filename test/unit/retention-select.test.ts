import { describe, expect, it } from 'vitest';
import { parseRetention } from '../../src/retention/policy.js';
import { isoWeek, selectRetention } from '../../src/retention/select.js';

// Nov 2026: the 1st is a Sunday, so ISO weeks run Mon 2 – Sun 8, 9 – 15, 16 – 22.
const daily = Array.from(
  { length: 20 },
  (_, i) => `2026-11-${String(i + 1).padStart(2, '0')}T03:00:00Z`,
);
const dataset = [
  ...daily,
  '2026-11-20T15:00:00Z',
  '2026-11-19T15:00:00Z',
  '2026-10-15T03:00:00Z',
  '2025-12-31T23:00:00Z',
];

function kept(policy: string, now: string, items: string[] = dataset): string[] {
  const p = parseRetention(policy);
  if (!p.ok) throw new Error(p.error);
  const sel = selectRetention(items, (s) => new Date(s), p.policy, new Date(now));
  expect(sel.keep.length + sel.remove.length).toBe(items.length);
  return sel.keep.map((k) => k.item).sort();
}

const NOW = '2026-11-20T16:00:00Z';

describe('selectRetention (restic semantics)', () => {
  it.each([
    ['keep-last=3', ['2026-11-19T15:00:00Z', '2026-11-20T03:00:00Z', '2026-11-20T15:00:00Z']],
    // newest backup of each of the 3 newest days
    ['keep-daily=3', ['2026-11-18T03:00:00Z', '2026-11-19T15:00:00Z', '2026-11-20T15:00:00Z']],
    // the two newest hours that have a backup
    ['keep-hourly=2', ['2026-11-20T03:00:00Z', '2026-11-20T15:00:00Z']],
    // week 16-22 → the 20th 15:00; week 9-15 → the 15th
    ['keep-weekly=2', ['2026-11-15T03:00:00Z', '2026-11-20T15:00:00Z']],
    ['keep-monthly=2', ['2026-10-15T03:00:00Z', '2026-11-20T15:00:00Z']],
    ['keep-yearly=5', ['2025-12-31T23:00:00Z', '2026-11-20T15:00:00Z']],
    // a backup kept by any rule is kept
    [
      'keep-last=1,keep-daily=2,keep-monthly=3',
      [
        '2025-12-31T23:00:00Z',
        '2026-10-15T03:00:00Z',
        '2026-11-19T15:00:00Z',
        '2026-11-20T15:00:00Z',
      ],
    ],
    // younger than 36h at 2026-11-20T16:00 means after 2026-11-19T04:00
    ['max-age=36h', ['2026-11-19T15:00:00Z', '2026-11-20T03:00:00Z', '2026-11-20T15:00:00Z']],
    [
      'max-age=36h,keep-yearly=1',
      ['2026-11-19T15:00:00Z', '2026-11-20T03:00:00Z', '2026-11-20T15:00:00Z'],
    ],
    [
      'max-age=36h,keep-monthly=3',
      [
        '2025-12-31T23:00:00Z',
        '2026-10-15T03:00:00Z',
        '2026-11-19T15:00:00Z',
        '2026-11-20T03:00:00Z',
        '2026-11-20T15:00:00Z',
      ],
    ],
  ])('given %s, then it keeps exactly the expected backups', (policy, expected) => {
    expect(kept(policy, NOW)).toEqual(expected);
  });

  it('given the empty policy, then everything is kept', () => {
    expect(kept('', NOW)).toEqual([...dataset].sort());
  });

  it('given max-age older than every backup, then the newest is still kept', () => {
    expect(kept('max-age=1h', '2027-06-01T00:00:00Z')).toEqual(['2026-11-20T15:00:00Z']);
  });

  it('given days without backups, then they do not use up keep-daily', () => {
    const sparse = [
      '2026-11-01T03:00:00Z',
      '2026-11-05T03:00:00Z',
      '2026-11-20T03:00:00Z',
      '2026-10-01T03:00:00Z',
    ];
    expect(kept('keep-daily=3', NOW, sparse)).toEqual([
      '2026-11-01T03:00:00Z',
      '2026-11-05T03:00:00Z',
      '2026-11-20T03:00:00Z',
    ]);
  });

  it('given unsorted input, then the result does not depend on order', () => {
    const shuffled = [...dataset].reverse();
    expect(kept('keep-daily=3,keep-last=2', NOW, shuffled)).toEqual(
      kept('keep-daily=3,keep-last=2', NOW),
    );
  });

  it('explains why each backup is kept', () => {
    const p = parseRetention('keep-last=1,keep-daily=2');
    if (!p.ok) throw new Error(p.error);
    const sel = selectRetention(dataset, (s) => new Date(s), p.policy, new Date(NOW));
    expect(sel.keep.map((k) => [k.item, k.reasons])).toEqual([
      ['2026-11-20T15:00:00Z', ['newest', 'last', 'daily']],
      ['2026-11-19T15:00:00Z', ['daily']],
    ]);
  });
});

describe('isoWeek', () => {
  it.each([
    ['2026-01-01T00:00:00Z', '2026-W01'], // a Thursday
    ['2025-12-29T00:00:00Z', '2026-W01'], // the Monday of that week
    ['2025-12-28T23:59:59Z', '2025-W52'], // the Sunday before
    ['2027-01-01T00:00:00Z', '2026-W53'], // 2026 has 53 weeks
    ['2026-11-16T00:00:00Z', '2026-W47'],
    ['2026-11-22T23:00:00Z', '2026-W47'],
  ])('%s is in %s', (d, w) => {
    expect(isoWeek(new Date(d))).toBe(w);
  });
});
