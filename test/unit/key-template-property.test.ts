// The operator and the dumper check the key template with one definition:
// whatever the operator accepts (it starts, and puts the template on every
// CronJob), the dumper accepts too, and renders keys that storage takes, one
// directory per backup, under the workload's prefix.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadOperatorConfig } from '../../src/config/operator.js';
import { loadDumpConfig } from '../../src/dump/config.js';
import { checkKeyTemplate, KEY_PLACEHOLDERS } from '../../src/contract/key-template.js';
import { keySegment, manifestKeyFor, renderKey, workloadPrefix } from '../../src/dump/key.js';
import { ConfigError } from '../../src/errors.js';
import { engineTypes } from '../../src/manifest.js';
import { checkKey } from '../../src/storage/errors.js';

const operatorEnv = { SNAPKEEPER_WATCH_NAMESPACES: 'shop', SNAPKEEPER_STORAGE: 's3://backups/p' };
const dumperEnv = {
  SNAPKEEPER_TYPE: 'postgresql',
  SNAPKEEPER_HOST: 'db.shop.svc',
  SNAPKEEPER_DATABASES: 'app',
  SNAPKEEPER_STORAGE: 's3://backups/p',
  SNAPKEEPER_WORKLOAD_NAMESPACE: 'shop',
  SNAPKEEPER_WORKLOAD_NAME: 'postgres',
};

function problems(load: () => unknown): string[] {
  try {
    load();
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
}

const operatorAccepts = (t: string) =>
  problems(() => loadOperatorConfig({ ...operatorEnv, SNAPKEEPER_KEY_TEMPLATE: t })).length === 0;
/** The template the operator puts on the CronJobs (the default for an empty one). */
const onCronJobs = (t: string) =>
  loadOperatorConfig({ ...operatorEnv, SNAPKEEPER_KEY_TEMPLATE: t }).keyTemplate;
const dumperProblems = (t: string) =>
  problems(() => loadDumpConfig({ ...dumperEnv, SNAPKEEPER_KEY_TEMPLATE: t }));

const placeholders = KEY_PLACEHOLDERS.map((p) => `{${p}}`);

/** Pieces of templates: placeholders (known and not), separators, and awkward literals. */
const token = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...placeholders) },
  { weight: 3, arbitrary: fc.constantFrom('/', '.', '-', '_', 'x', 'backups') },
  {
    weight: 1,
    arbitrary: fc.constantFrom('..', '//', '\\', '{', '}', '{db}', '{}', ' ', '%', '\0', 'é'),
  },
);
/** Templates of up to a dozen pieces, and templates shaped like valid ones with noise. */
const template = fc.oneof(
  fc.array(token, { maxLength: 12 }).map((t) => t.join('')),
  fc
    .tuple(fc.array(fc.array(token, { maxLength: 3 }), { maxLength: 4 }), fc.array(token))
    .map(([dirs, file]) =>
      [...dirs.map((d) => d.join('')), '{timestamp}', `${file.join('')}{database}.{ext}`].join('/'),
    ),
);

const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
const values = fc.record({
  namespace: name,
  workload: name,
  kind: fc.constantFrom('StatefulSet', 'Deployment', 'Local', 'Pod'),
  type: fc.constantFrom(...engineTypes),
  time: fc.date({
    min: new Date('2000-01-01T00:00:00Z'),
    max: new Date('2099-12-31T23:59:59Z'),
    noInvalidDate: true,
  }),
  ext: fc.constantFrom('sql.gz', 'sql.gz.age', 'dump.gz', 'tar.gz'),
});
const suffix = fc.stringMatching(/^[a-km-np-z2-9]{6}$/);

describe('the key template check', () => {
  it('given the template of the issue, then the operator refuses it with the dumper’s reasons', () => {
    const t = '{namespace}/{workload}-{timestamp}.gz';
    const op = problems(() => loadOperatorConfig({ ...operatorEnv, SNAPKEEPER_KEY_TEMPLATE: t }));
    expect(op.length).toBeGreaterThan(0);
    expect(op).toEqual(dumperProblems(t));
    expect(op.join('\n')).toMatch(/directory part must contain \{timestamp\}/);
  });

  it('given any template, when the operator accepts it, then the dumper accepts it', () => {
    fc.assert(
      fc.property(template, (t) => {
        if (operatorAccepts(t)) expect(dumperProblems(onCronJobs(t))).toEqual([]);
      }),
      { numRuns: 3000 },
    );
  });

  it('given any template the operator accepts and any names, then its keys are usable: valid, one directory per backup, under the workload prefix', () => {
    const accepted = template.filter((t) => operatorAccepts(t)).map(onCronJobs);
    fc.assert(
      fc.property(accepted, values, name, name, suffix, suffix, (t, v, db1, db2, s1, s2) => {
        fc.pre(keySegment(db1) !== keySegment(db2) && s1 !== s2);
        const one = renderKey(t, { ...v, suffix: s1, database: db1 });
        const other = renderKey(t, { ...v, suffix: s1, database: db2 });
        const later = renderKey(t, { ...v, suffix: s2, database: db1 });
        for (const k of [one, other, later]) expect(checkKey(k)).toBe(k);
        // one backup's objects share a directory and its manifest ...
        expect(one).not.toBe(other);
        expect(manifestKeyFor(one)).toBe(manifestKeyFor(other));
        // ... and another run (same instant, other suffix) never shares it
        expect(manifestKeyFor(one)).not.toBe(manifestKeyFor(later));
        expect(one.startsWith(workloadPrefix(t, v))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('given templates that are one check for both, then both give the same reasons', () => {
    fc.assert(
      fc.property(template, (t) => {
        fc.pre(t.trim() !== ''); // unset: both use the default
        const mine = checkKeyTemplate(t.trim());
        expect(dumperProblems(t)).toEqual(
          mine.length > 0 ? [`SNAPKEEPER_KEY_TEMPLATE: ${mine.join('; ')}`] : [],
        );
        const op = problems(() =>
          loadOperatorConfig({ ...operatorEnv, SNAPKEEPER_KEY_TEMPLATE: t }),
        );
        expect(op).toEqual(dumperProblems(t));
      }),
      { numRuns: 1000 },
    );
  });
});
