// The three restore-test annotations: restore-test (a schedule), restore-test-checks
// (one SQL check per line), restore-test-resources (the resources syntax).
import { describe, expect, it } from 'vitest';
import { parseAnnotations, type AnnotationDefaults } from '../../src/annotations/index.js';
import { resolveSchedule } from '../../src/annotations/schedule.js';

const S = 'snapkeeper.io/';
const defaults: AnnotationDefaults = { recipients: [], encryption: false };
const KEY = 'shop/Deployment/postgres';
const base = { [`${S}enabled`]: 'true', [`${S}type`]: 'postgresql', [`${S}schedule`]: '0 3 * * *' };
const parse = (a: Record<string, string>) => parseAnnotations(a, { workloadKey: KEY, defaults });

function spec(a: Record<string, string>) {
  const r = parse(a);
  if (!r.ok) throw new Error(`expected ok, got ${r.errors.join(' | ')}`);
  return r;
}
function errors(a: Record<string, string>) {
  const r = parse(a);
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

describe('restore-test annotations', () => {
  it('given no restore-test annotation, then the spec has no restore test', () => {
    expect(spec(base).spec.restoreTest).toBeUndefined();
  });

  it('given a restore-test schedule alone, then the restore test has that schedule, no checks and the chart resources', () => {
    expect(spec({ ...base, [`${S}restore-test`]: '30 5 * * 0' }).spec.restoreTest).toEqual({
      schedule: '30 5 * * 0',
      checks: [],
    });
  });

  it('given @daily for both the backup and the restore test, then H resolves per workload but apart from the backup', () => {
    const r = spec({ ...base, [`${S}schedule`]: '@daily', [`${S}restore-test`]: '@daily' });
    const again = spec({ ...base, [`${S}schedule`]: '@daily', [`${S}restore-test`]: '@daily' });
    expect(r.spec.restoreTest!.schedule).toBe(again.spec.restoreTest!.schedule);
    expect(r.spec.restoreTest!.schedule).not.toBe(r.spec.schedule);
    expect(r.spec.restoreTest!.schedule).toMatch(/^\d+ \d+ \* \* \*$/);
    const direct = resolveSchedule('H H(1-4) * * *', `${KEY}#restore-test`);
    expect(
      spec({ ...base, [`${S}restore-test`]: 'H H(1-4) * * *' }).spec.restoreTest!.schedule,
    ).toBe(direct.ok ? direct.schedule : 'unreachable');
  });

  it('given checks on several lines with blank ones, then each non-blank line is one check, in order', () => {
    const r = spec({
      ...base,
      [`${S}restore-test`]: '0 6 * * *',
      [`${S}restore-test-checks`]:
        "select count(*) > 0 from orders\n\n  select max(created_at) > now() - interval '2 days' from orders  \r\n\n",
    });
    expect(r.spec.restoreTest!.checks).toEqual([
      'select count(*) > 0 from orders',
      "select max(created_at) > now() - interval '2 days' from orders",
    ]);
  });

  it('given restore-test-resources, then they replace the chart default', () => {
    const r = spec({
      ...base,
      [`${S}restore-test`]: '0 6 * * *',
      [`${S}restore-test-resources`]: 'cpu=1,memory=2Gi,ephemeral-storage=20Gi',
    });
    expect(r.spec.restoreTest!.resources).toEqual({
      requests: { cpu: '1', memory: '2Gi', 'ephemeral-storage': '20Gi' },
      limits: { memory: '2Gi' },
    });
  });

  it.each([
    [
      'an invalid schedule',
      { [`${S}restore-test`]: 'every night' },
      `${S}restore-test: "every night" is not a schedule`,
      'accepted: 5-field cron',
    ],
    [
      'invalid resources',
      { [`${S}restore-test`]: '0 6 * * *', [`${S}restore-test-resources`]: 'disk=4Gi' },
      `${S}restore-test-resources: "disk=4Gi" is not a resource list`,
      'accepted: comma list of name=quantity',
    ],
    [
      'checks holding only blank lines',
      { [`${S}restore-test`]: '0 6 * * *', [`${S}restore-test-checks`]: '\n  \n' },
      `${S}restore-test-checks: "    " holds no check`,
      'accepted: SQL queries whose first column must be true, one per line',
    ],
    [
      'too many checks',
      {
        [`${S}restore-test`]: '0 6 * * *',
        [`${S}restore-test-checks`]: Array.from({ length: 51 }, (_, i) => `select ${i} > 0`).join(
          '\n',
        ),
      },
      'holds 51 checks',
      'at most 50',
    ],
    [
      'a check that is too long',
      {
        [`${S}restore-test`]: '0 6 * * *',
        [`${S}restore-test-checks`]: `select true or '${'x'.repeat(5000)}' = ''`,
      },
      'holds a check of 5022 characters',
      'at most 4096 characters',
    ],
  ])(
    'given %s, then the set is invalid and the error names annotation, value and what is accepted',
    (_name, extra, what, accepted) => {
      const e = errors({ ...base, ...extra });
      expect(e).toHaveLength(1);
      expect(e[0]).toContain(what);
      expect(e[0]).toContain(accepted);
    },
  );

  it('given checks for an elasticsearch workload, then they are refused: there is no SQL server', () => {
    const e = errors({
      ...base,
      [`${S}type`]: 'elasticsearch',
      [`${S}restore-test`]: '0 6 * * *',
      [`${S}restore-test-checks`]: 'select 1',
    });
    expect(e).toEqual([
      `${S}restore-test-checks: "select 1" is set, but checks run SQL and an elasticsearch restore test has no SQL server; accepted: no restore-test-checks for type elasticsearch (its restore test checks the archive)`,
    ]);
  });

  it('given an elasticsearch workload with a restore test and no checks, then it is accepted', () => {
    expect(
      spec({ ...base, [`${S}type`]: 'elasticsearch', [`${S}restore-test`]: '0 6 * * *' }).spec
        .restoreTest,
    ).toEqual({ schedule: '0 6 * * *', checks: [] });
  });

  it('given checks and resources without restore-test, then they are ignored with a warning each', () => {
    const r = spec({
      ...base,
      [`${S}restore-test-checks`]: 'select true',
      [`${S}restore-test-resources`]: 'memory=2Gi',
    });
    expect(r.spec.restoreTest).toBeUndefined();
    expect(r.warnings).toEqual([
      `${S}restore-test-checks: ignored without ${S}restore-test`,
      `${S}restore-test-resources: ignored without ${S}restore-test`,
    ]);
  });

  it('given the restore-test annotations, then none is reported as unknown', () => {
    const r = spec({
      ...base,
      [`${S}restore-test`]: '0 6 * * *',
      [`${S}restore-test-checks`]: 'select true',
      [`${S}restore-test-resources`]: 'memory=2Gi',
    });
    expect(r.warnings).toEqual([]);
  });

  it('given any string in the three annotations, then parsing never throws', () => {
    for (const v of ['', ' ', '\0', 'H', '@weekly', 'a=b', '\n\n', '0 6 * * *', '-- x\n;']) {
      for (const k of ['restore-test', 'restore-test-checks', 'restore-test-resources']) {
        expect(() => parse({ ...base, [`${S}${k}`]: v })).not.toThrow();
      }
    }
  });
});
