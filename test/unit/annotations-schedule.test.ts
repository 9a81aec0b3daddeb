import { CronExpressionParser } from 'cron-parser';
import { describe, expect, it } from 'vitest';
import { resolveSchedule } from '../../src/annotations/schedule.js';
import { splitShellWords } from '../../src/annotations/shell-words.js';
import { parseResources } from '../../src/annotations/resources.js';
import { retentionProblem } from '../../src/annotations/retention.js';

const keys = Array.from({ length: 200 }, (_, i) => `ns${i % 7}/Deployment/db-${i}`);

function resolved(value: string, key = 'shop/Deployment/postgres'): string {
  const r = resolveSchedule(value, key);
  if (!r.ok) throw new Error(r.reason);
  return r.schedule;
}
const field = (s: string, i: number) => s.split(' ')[i]!;

describe('resolveSchedule', () => {
  it.each(['0 3 * * *', '*/15 * * * *', '0 0 1,15 * mon-fri', '5 4 ? * SUN', '0 22 * 1-6 1'])(
    'given the plain cron %s, when resolved, then it is kept as written',
    (cron) => expect(resolved(cron)).toBe(cron),
  );

  it.each([
    ['H 3 * * *', 0, 0, 59],
    ['0 H * * *', 1, 0, 23],
    ['0 0 H * *', 2, 1, 28],
    ['0 0 1 H *', 3, 1, 12],
    ['0 0 * * H', 4, 0, 6],
    ['0 H(1-4) * * *', 1, 1, 4],
    ['H(10-20) 3 * * *', 0, 10, 20],
  ])(
    'given %s, when resolved for 200 workloads, then field %i stays within %i-%i and varies',
    (cron, i, lo, hi) => {
      const values = keys.map((k) => Number(field(resolved(cron, k), i)));
      for (const v of values) {
        expect(Number.isInteger(v)).toBe(true);
        expect(v).toBeGreaterThanOrEqual(lo);
        expect(v).toBeLessThanOrEqual(hi);
      }
      expect(new Set(values).size).toBeGreaterThan(Math.min(hi - lo, 3));
    },
  );

  it('given H, when resolved twice for one workload, then the value is the same', () => {
    expect(resolved('H H * * *', 'a/Deployment/x')).toBe(resolved('H H * * *', 'a/Deployment/x'));
  });

  it('given H/15 in the minute, when resolved, then it is a stepped range starting below 15', () => {
    for (const k of keys.slice(0, 30)) {
      const m = /^(\d+)-59\/15$/.exec(field(resolved('H/15 * * * *', k), 0));
      expect(m).not.toBeNull();
      expect(Number(m![1])).toBeLessThan(15);
    }
  });

  it.each([
    ['@hourly', /^\d+ \* \* \* \*$/],
    ['@daily', /^\d+ \d+ \* \* \*$/],
    ['@midnight', /^\d+ \d+ \* \* \*$/],
    ['@weekly', /^\d+ \d+ \* \* \d$/],
    ['@monthly', /^\d+ \d+ \d+ \* \*$/],
    ['@yearly', /^\d+ \d+ \d+ \d+ \*$/],
  ])('given %s, when resolved, then it is spread like its H form', (macro, shape) => {
    expect(resolved(macro)).toMatch(shape);
  });

  it('given @daily on 200 workloads, when resolved, then they do not all start at the same time', () => {
    const starts = new Set(keys.map((k) => resolved('@daily', k)));
    expect(starts.size).toBeGreaterThan(100);
  });

  it('given any resolved schedule, when parsed by cron-parser, then it is valid', () => {
    for (const cron of ['H H(1-4) * * *', '@weekly', 'H/20 H * * 1-5', 'H,30 H * * *']) {
      expect(() => CronExpressionParser.parse(resolved(cron))).not.toThrow();
    }
  });

  it.each([
    ['0 3 * *', /4 fields/],
    ['0 0 3 * * *', /6 fields/],
    ['H(5) * * * *', /minute field/],
    ['H(50-70) * * * *', /outside 0-59/],
    ['0 H(5-2) * * *', /outside/],
    ['H/0 * * * *', /step 0/],
    ['0 3 L * *', /Kubernetes/],
    ['0 3 * * 5#2', /Kubernetes/],
    ['0 3 * * foo', /"foo"/],
    ['@every 5m', /macro/],
    ['99 3 * * *', /.+/],
  ])('given %s, when resolved, then it is refused with a reason', (cron, reason) => {
    const r = resolveSchedule(cron, 'k');
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toMatch(reason);
  });
});

describe('splitShellWords', () => {
  it.each([
    ['', []],
    ['  --a   --b ', ['--a', '--b']],
    [`--exclude-table 'audit log'`, ['--exclude-table', 'audit log']],
    [`--where="id > 5"`, ['--where=id > 5']],
    [`"a\\"b" 'c\\d'`, ['a"b', 'c\\d']],
    [`a\\ b`, ['a b']],
    [`''`, ['']],
    [`$HOME $(id) \`x\``, ['$HOME', '$(id)', '`x`']],
  ])('given %j, when split, then the words are %j', (input, words) => {
    expect(splitShellWords(input)).toEqual({ ok: true, words });
  });

  it.each([`'a`, `"a`, `a\\`, 'a\nb', 'a\0b', 'a\rb'])(
    'given %j, when split, then it is refused',
    (input) => {
      expect(splitShellWords(input).ok).toBe(false);
    },
  );
});

describe('parseResources', () => {
  it.each([
    [
      'cpu=500m,memory=256Mi',
      { requests: { cpu: '500m', memory: '256Mi' }, limits: { memory: '256Mi' } },
    ],
    [
      'limits.memory=1Gi, memory=256Mi',
      { requests: { memory: '256Mi' }, limits: { memory: '1Gi' } },
    ],
    ['requests.cpu=0.5,limits.cpu=2', { requests: { cpu: '0.5' }, limits: { cpu: '2' } }],
    ['ephemeral-storage=1G', { requests: { 'ephemeral-storage': '1G' }, limits: {} }],
  ])('given %s, when parsed, then requests and limits are %j', (input, resources) => {
    expect(parseResources(input)).toEqual({ ok: true, resources });
  });

  it.each(['', 'cpu', 'cpu=', 'cpu=-1', 'cpu=1 core', 'gpu=1', 'limit.cpu=1', 'memory=256MB'])(
    'given %j, when parsed, then it is refused',
    (input) => expect(parseResources(input).ok).toBe(false),
  );
});

describe('retentionProblem', () => {
  it.each([
    '',
    'keep-last=7',
    'keep-last=7,keep-daily=14,keep-weekly=8,keep-monthly=12,keep-yearly=2,keep-hourly=24',
    'max-age=30d',
    'max-age=12h',
    'max-age=30d,keep-last=3',
  ])('given %j, when checked, then it is valid', (policy) =>
    expect(retentionProblem(policy)).toBeUndefined(),
  );
  it.each([
    'keep-last',
    'keep-last=0',
    'keep-last=-1',
    'keep-last=3,keep-last=4',
    'max-age=30',
    'max-age=2y',
    'keep=3',
    'keep-last=3,',
  ])('given %j, when checked, then a problem is reported without the accepted list', (policy) => {
    const problem = retentionProblem(policy);
    expect(problem).toBeTypeOf('string');
    expect(problem).not.toContain('accepted');
  });
});
