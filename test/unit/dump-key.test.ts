import { describe, expect, it } from 'vitest';
import { DEFAULT_KEY_TEMPLATE, checkKeyTemplate } from '../../src/contract/key-template.js';
import {
  keySegment,
  keyTimestamp,
  manifestKeyFor,
  randomSuffix,
  renderKey,
  workloadPrefix,
} from '../../src/dump/key.js';
import { checkKey } from '../../src/storage/errors.js';

const values = {
  namespace: 'shop',
  workload: 'postgres',
  kind: 'StatefulSet',
  type: 'postgresql',
  time: new Date('2026-11-20T03:00:00.123Z'),
  suffix: 'k3f9q2',
  database: 'app',
  ext: 'sql.gz.age',
};

describe('key template', () => {
  it('given the default template, when rendered, then it is the documented layout', () => {
    expect(renderKey(DEFAULT_KEY_TEMPLATE, values)).toBe(
      'shop/postgres/20261120T030000.123Z-k3f9q2/app.sql.gz.age',
    );
  });

  it('given a ksnapshot-like layout, when rendered, then the date parts are UTC', () => {
    const t = '{YYYY}/{MM}/{DD}/{type}/{namespace}-{workload}/{timestamp}/{database}.{ext}';
    expect(checkKeyTemplate(t)).toEqual([]);
    expect(renderKey(t, { ...values, time: new Date('2026-01-31T23:30:00Z') })).toBe(
      '2026/01/31/postgresql/shop-postgres/20260131T233000.000Z-k3f9q2/app.sql.gz.age',
    );
  });

  it.each([
    ['{namespace}/{workload}/{database}.{ext}', /must contain \{timestamp\}/],
    ['{namespace}/{timestamp}/{database}.sql', /must contain \{ext\}/],
    ['{namespace}/{timestamp}/{database}/{ext}', /\{database\} may only appear/],
    ['{namespace}/{timestamp}/{db}.{ext}', /unknown placeholder \{db\}/],
    ['/{namespace}/{timestamp}/{database}.{ext}', /leading/],
    ['{namespace}/../{timestamp}/{database}.{ext}', /no "\." or "\.\." path segment/],
    ['{namespace}\\{timestamp}/{database}.{ext}', /backslash/],
    ['  ', /is empty/],
    ['{namespace}/{workload}-{timestamp}.gz', /directory part must contain \{timestamp\}/],
  ])('given %s, when checked, then it is refused', (t, problem) => {
    expect(checkKeyTemplate(t).join('; ')).toMatch(problem);
  });

  it.each([
    ['app', 'app'],
    ['*', 'all-databases'],
    ['Ünïcødé_db-1.x', 'Ünïcødé_db-1.x'],
    ['a/b', 'a%2Fb'],
    ['..', '%2E%2E'],
    ['with space', 'with%20space'],
    ["it's(*)", 'it%27s%28%2A%29'],
  ])(
    'given the name %j, when made a key segment, then it is %j and a valid key',
    (name, segment) => {
      expect(keySegment(name)).toBe(segment);
      expect(() => checkKey(`x/${keySegment(name)}.sql.gz`)).not.toThrow();
    },
  );

  it('given any instant, then the timestamp is ISO 8601 basic UTC with milliseconds', () => {
    expect(keyTimestamp(new Date('2026-02-03T04:05:06.789Z'))).toBe('20260203T040506.789Z');
  });

  it('given two runs at the same instant, when their keys are rendered, then each has its own directory', () => {
    const a = renderKey(DEFAULT_KEY_TEMPLATE, { ...values, suffix: randomSuffix() });
    const b = renderKey(DEFAULT_KEY_TEMPLATE, { ...values, suffix: randomSuffix() });
    expect(manifestKeyFor(a)).not.toBe(manifestKeyFor(b));
    expect(a).toMatch(/^shop\/postgres\/20261120T030000\.123Z-[a-z2-9]{6}\/app\.sql\.gz\.age$/);
  });

  it('given many suffixes, then they are six readable characters and almost never repeat', () => {
    // 32^6 ≈ 1.07e9 suffixes: among 2,000 drawn, one pair repeats with a
    // probability of about 0.2 % (the birthday bound), so "no repeat at all"
    // would fail now and then. Five repeats or more (below 1e-13 for a
    // uniform draw) means the suffix is not random enough.
    const all = Array.from({ length: 2000 }, () => randomSuffix());
    expect(new Set(all).size).toBeGreaterThan(2000 - 5);
    for (const s of all) expect(s).toMatch(/^[a-km-np-z2-9]{6}$/);
  });

  it('given identities of one second, then they sort by time as strings', () => {
    const ids = ['00.999', '00.010', '01.000', '00.100'].map((t) =>
      renderKey('{timestamp}/{database}.{ext}', {
        ...values,
        time: new Date(`2026-11-20T03:00:${t}Z`),
      }),
    );
    expect([...ids].sort()).toEqual([ids[1], ids[3], ids[0], ids[2]]);
  });

  it('given an object key, then the manifest sits beside it', () => {
    expect(manifestKeyFor('shop/pg/20261120T030000Z/app.sql.gz')).toBe(
      'shop/pg/20261120T030000Z/manifest.json',
    );
  });

  it.each([
    [DEFAULT_KEY_TEMPLATE, 'shop/postgres/'],
    [
      'backups/{type}/{namespace}/{workload}/{YYYY}/{timestamp}/{database}.{ext}',
      'backups/postgresql/shop/postgres/',
    ],
    ['{YYYY}/{MM}/{DD}/{type}/{timestamp}/{database}.{ext}', ''],
  ])('given %s, then the workload prefix is %j', (t, prefix) => {
    expect(workloadPrefix(t, values)).toBe(prefix);
  });
});
