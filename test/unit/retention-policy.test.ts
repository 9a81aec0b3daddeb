import { describe, expect, it } from 'vitest';
import { formatRetention, parseRetention } from '../../src/retention/policy.js';

const H = 3_600_000;

describe('parseRetention', () => {
  it.each([
    ['keep-last=7', { keepLast: 7 }],
    [
      'keep-last=7,keep-daily=14,keep-weekly=8,keep-monthly=12',
      { keepLast: 7, keepDaily: 14, keepWeekly: 8, keepMonthly: 12 },
    ],
    [' keep-hourly = 24 , keep-yearly=3 ', { keepHourly: 24, keepYearly: 3 }],
    ['max-age=30d', { maxAgeMs: 30 * 24 * H }],
    ['max-age=36h', { maxAgeMs: 36 * H }],
    ['max-age=2w', { maxAgeMs: 14 * 24 * H }],
    ['max-age=30d,keep-last=3', { maxAgeMs: 30 * 24 * H, keepLast: 3 }],
    ['', {}],
  ])('given %j, then the policy', (s, policy) => {
    expect(parseRetention(s)).toEqual({ ok: true, policy });
  });

  it.each([
    ['keep-last=0', /keep-last=0 is not a positive integer/],
    ['keep-last=-1', /not a positive integer/],
    ['keep-last=1.5', /not a positive integer/],
    ['keep-last', /has no value/],
    ['keep-forever=1', /unknown rule "keep-forever"/],
    ['keep-last=1,keep-last=2', /given twice/],
    ['max-age=30', /not a positive age/],
    ['max-age=30m', /not a positive age/],
    ['max-age=0d', /not a positive age/],
    ['keep-last=1,', /empty rule/],
  ])('given %j, then one line naming the problem and what is accepted', (s, msg) => {
    const r = parseRetention(s);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toMatch(msg);
      expect(r.error).toMatch(/accepted: .*keep-last=N.*max-age/);
      expect(r.error).not.toContain('\n');
    }
  });

  it('formats back to a string that parses to the same policy', () => {
    for (const s of ['keep-last=7,keep-daily=14', 'max-age=2w', 'max-age=36h,keep-yearly=2']) {
      const r = parseRetention(s);
      if (!r.ok) throw new Error(r.error);
      expect(parseRetention(formatRetention(r.policy))).toEqual(r);
    }
  });
});
