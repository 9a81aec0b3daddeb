import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isTracked,
  parseAnnotations,
  type AnnotationDefaults,
} from '../../src/annotations/index.js';

const R1 = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
const R2 = 'age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg';
const S = 'snapkeeper.io/';
const K = 'ksnapshot.clickandmortar.fr/';
const noDefaults: AnnotationDefaults = { recipients: [], encryption: false };
const ctx = (defaults: Partial<AnnotationDefaults> = {}) => ({
  workloadKey: 'shop/Deployment/postgres',
  defaults: { ...noDefaults, ...defaults },
});
const base = { [`${S}enabled`]: 'true', [`${S}type`]: 'postgresql', [`${S}schedule`]: '0 3 * * *' };

function ok(annotations: Record<string, string>, defaults: Partial<AnnotationDefaults> = {}) {
  const r = parseAnnotations(annotations, ctx(defaults));
  if (!r.ok) throw new Error(`expected ok, got ${r.errors.join(' | ')}`);
  return r;
}
function errors(annotations: Record<string, string>, defaults: Partial<AnnotationDefaults> = {}) {
  const r = parseAnnotations(annotations, ctx(defaults));
  if (r.ok) throw new Error('expected errors');
  return r.errors;
}

describe('isTracked', () => {
  it.each([
    [undefined, false],
    [{}, false],
    [{ [`${S}enabled`]: 'true' }, true],
    [{ [`${S}enabled`]: 'True ' }, true],
    [{ [`${S}enabled`]: 'false' }, false],
    [{ [`${S}enabled`]: 'yes' }, false],
    [{ [`${K}enabled`]: 'true' }, true],
    [{ [`${S}enabled`]: 'false', [`${K}enabled`]: 'true' }, false],
    [{ [`${S}enabled`]: 'true', [`${K}enabled`]: 'false' }, true],
  ])('given %j, when checked, then tracked is %s', (annotations, expected) => {
    expect(isTracked(annotations)).toBe(expected);
  });
});

describe('parseAnnotations: a valid set', () => {
  it('given the three required annotations, when parsed, then the documented defaults fill the rest', () => {
    const r = ok(base);
    expect(r.spec).toEqual({
      type: 'postgresql',
      schedule: '0 3 * * *',
      timezone: 'Etc/UTC',
      recipients: [],
      dumpOptions: [],
      suspend: false,
    });
    expect(r.warnings).toEqual([]);
  });

  it('given every optional annotation, when parsed, then each lands in the spec', () => {
    const r = ok({
      ...base,
      [`${S}timezone`]: 'Europe/Paris',
      [`${S}databases`]: 'app, audit,app',
      [`${S}version`]: '16',
      [`${S}retention`]: 'keep-last=7,keep-daily=14',
      [`${S}encryption-recipients`]: `${R1}, ${R2}`,
      [`${S}dump-options`]: `--format=custom --exclude-table 'audit log'`,
      [`${S}suspend`]: 'true',
      [`${S}resources`]: 'cpu=500m,memory=1Gi',
    });
    expect(r.spec).toEqual({
      type: 'postgresql',
      schedule: '0 3 * * *',
      timezone: 'Europe/Paris',
      databases: ['app', 'audit'],
      clientVersion: '16',
      retention: 'keep-last=7,keep-daily=14',
      recipients: [R1, R2],
      dumpOptions: ['--format=custom', '--exclude-table', 'audit log'],
      suspend: true,
      resources: { requests: { cpu: '500m', memory: '1Gi' }, limits: { memory: '1Gi' } },
    });
  });

  it('given an elasticsearch type, when parsed without a limit, then the page size is 1000', () => {
    expect(ok({ ...base, [`${S}type`]: 'elasticsearch' }).spec.esLimit).toBe(1000);
    expect(
      ok({ ...base, [`${S}type`]: 'elasticsearch', [`${S}elasticsearch-limit`]: '250' }).spec
        .esLimit,
    ).toBe(250);
  });

  it('given databases "*", when parsed, then all databases are asked for', () => {
    expect(ok({ ...base, [`${S}databases`]: ' * ' }).spec.databases).toBe('*');
  });
});

describe('parseAnnotations: defaults and encryption', () => {
  it.each([
    ['no annotation, default off', {}, { encryption: false, recipients: [R1] }, []],
    ['no annotation, default on', {}, { encryption: true, recipients: [R1] }, [R1]],
    [
      'recipients set, default off',
      { [`${S}encryption-recipients`]: R2 },
      { encryption: false },
      [R2],
    ],
    [
      'recipients set and enabled false',
      { [`${S}encryption-recipients`]: R2, [`${S}encryption-enabled`]: 'false' },
      {},
      [],
    ],
    [
      'enabled true, default recipients',
      { [`${S}encryption-enabled`]: 'true' },
      { recipients: [R1] },
      [R1],
    ],
    [
      'enabled false, default on',
      { [`${S}encryption-enabled`]: 'false' },
      { encryption: true, recipients: [R1] },
      [],
    ],
  ])(
    'given %s, when parsed, then the recipients are as expected',
    (_n, extra, defaults, expected) => {
      expect(ok({ ...base, ...extra }, defaults).spec.recipients).toEqual(expected);
    },
  );

  it('given encryption on and no recipient anywhere, when parsed, then it is an error naming encryption-enabled', () => {
    const e = errors({ ...base, [`${S}encryption-enabled`]: 'true' });
    expect(e).toHaveLength(1);
    expect(e[0]).toMatch(/^snapkeeper\.io\/encryption-enabled: .*no recipient/);
  });

  it('given a chart default retention and resources, when the pod sets none, then the defaults apply; when it sets one, it wins', () => {
    const defaults = {
      retention: 'max-age=30d',
      resources: { requests: { cpu: '1' }, limits: {} },
    };
    expect(ok(base, defaults).spec.retention).toBe('max-age=30d');
    expect(ok(base, defaults).spec.resources).toEqual(defaults.resources);
    expect(ok({ ...base, [`${S}retention`]: 'keep-last=3' }, defaults).spec.retention).toBe(
      'keep-last=3',
    );
  });
});

describe('parseAnnotations: compression', () => {
  it.each([
    ['gzip', { type: 'gzip', level: 6 }],
    ['gzip:1', { type: 'gzip', level: 1 }],
    [' ZSTD ', { type: 'zstd', level: 3 }],
    ['zstd:19', { type: 'zstd', level: 19 }],
  ])('given %j, when parsed, then the spec carries %j', (value, expected) => {
    expect(ok({ ...base, [`${S}compression`]: value }).spec.compression).toEqual(expected);
  });

  it('given a chart default, when the pod sets none, then it applies; when the pod sets one, it wins', () => {
    const defaults = { compression: { type: 'zstd' as const, level: 3 } };
    expect(ok(base).spec.compression).toBeUndefined();
    expect(ok(base, defaults).spec.compression).toEqual({ type: 'zstd', level: 3 });
    expect(ok({ ...base, [`${S}compression`]: 'gzip:9' }, defaults).spec.compression).toEqual({
      type: 'gzip',
      level: 9,
    });
  });

  it('given a bad value, when parsed, then the error names the annotation, the value and what is accepted', () => {
    expect(errors({ ...base, [`${S}compression`]: 'gzip:0' })).toEqual([
      `${S}compression: "gzip:0" is not a compression (gzip levels are 1 to 9); ` +
        'accepted: gzip, gzip:<1-9>, zstd or zstd:<1-19>',
    ]);
  });

  it('given the annotation, when parsed, then it is a known key (no typo warning)', () => {
    expect(ok({ ...base, [`${S}compression`]: 'zstd' }).warnings).toEqual([]);
  });
});

describe('parseAnnotations: ksnapshot compatibility', () => {
  const ks = {
    [`${K}enabled`]: 'true',
    [`${K}type`]: 'mysql',
    [`${K}schedule`]: '30 2 * * *',
    [`${K}timezone`]: 'Europe/Paris',
    [`${K}version`]: '5.7',
    [`${K}encryption-enabled`]: 'true',
    [`${K}encryption-recipient`]: R1,
  };

  it('given only ksnapshot annotations, when parsed, then they are understood', () => {
    const r = ok(ks);
    expect(r.spec).toMatchObject({
      type: 'mysql',
      schedule: '30 2 * * *',
      timezone: 'Europe/Paris',
      clientVersion: '5.7',
      recipients: [R1],
    });
  });

  it('given both prefixes with different values, when parsed, then snapkeeper.io wins and a warning says so', () => {
    const r = ok({ ...ks, [`${S}schedule`]: '0 4 * * *' });
    expect(r.spec.schedule).toBe('0 4 * * *');
    expect(r.warnings.some((w) => w.startsWith(`${S}schedule: overrides ${K}schedule`))).toBe(true);
  });

  it('given a bad ksnapshot value, when parsed, then the error names the ksnapshot annotation', () => {
    const e = errors({ ...ks, [`${K}timezone`]: 'Mars/Olympus' });
    expect(e).toHaveLength(1);
    expect(e[0]!.startsWith(`${K}timezone: "Mars/Olympus" is not`)).toBe(true);
  });
});

describe('parseAnnotations: time zones', () => {
  it.each([
    'Europe/Paris',
    'Etc/UTC',
    'UTC',
    'US/Eastern',
    'Asia/Calcutta',
    'EST5EDT',
    'Etc/GMT+5',
  ])(
    'given the zone %s (canonical or a tz database alias Kubernetes loads), when parsed, then it is kept as written',
    (zone) => {
      expect(ok({ ...base, [`${S}timezone`]: zone }).spec.timezone).toBe(zone);
    },
  );

  it.each([
    ['Mars/Olympus', ''],
    ['+01:00', ''],
    ['Local', ''],
    ['Europe/Paris; rm -rf /', ''],
    ['us/eastern', ' (names are case-sensitive, e.g. US/Eastern)'],
    ['etc/utc', ' (did you mean Etc/UTC?)'],
  ])('given the zone %j, when parsed, then it is refused%s', (zone, hint) => {
    expect(errors({ ...base, [`${S}timezone`]: zone })).toEqual([
      `${S}timezone: ${JSON.stringify(zone)} is not an IANA time zone${hint}; accepted: an IANA time zone name such as Etc/UTC, Europe/Paris, America/New_York or US/Eastern`,
    ]);
  });
});

describe('parseAnnotations: errors', () => {
  it.each([
    [
      'type',
      { [`${S}type`]: 'oracle' },
      `${S}type: "oracle" is not a database type; accepted: postgresql, mysql, mariadb, elasticsearch`,
    ],
    [
      'schedule fields',
      { [`${S}schedule`]: '0 3 * *' },
      `${S}schedule: "0 3 * *" is not a schedule`,
    ],
    [
      'schedule with seconds',
      { [`${S}schedule`]: '0 0 3 * * *' },
      `${S}schedule: "0 0 3 * * *" is not a schedule`,
    ],
    [
      'schedule out of range',
      { [`${S}schedule`]: '61 3 * * *' },
      `${S}schedule: "61 3 * * *" is not a schedule`,
    ],
    [
      'schedule with L',
      { [`${S}schedule`]: '0 3 * * 5L' },
      `${S}schedule: "0 3 * * 5L" is not a schedule`,
    ],
    ['unknown macro', { [`${S}schedule`]: '@reboot' }, `${S}schedule: "@reboot" is not a schedule`],
    ['timezone', { [`${S}timezone`]: 'Paris' }, `${S}timezone: "Paris" is not an IANA time zone`],
    [
      'timezone case',
      { [`${S}timezone`]: 'europe/paris' },
      `${S}timezone: "europe/paris" is not an IANA time zone (did you mean Europe/Paris?)`,
    ],
    [
      'databases',
      { [`${S}databases`]: 'app,,x' },
      `${S}databases: "app,,x" is not a list of database names`,
    ],
    ['version', { [`${S}version`]: 'latest' }, `${S}version: "latest" is not a version`],
    [
      'retention',
      { [`${S}retention`]: 'keep-last=0' },
      `${S}retention: "keep-last=0" is not a retention policy`,
    ],
    [
      'recipient',
      { [`${S}encryption-recipients`]: `${R1},age1abc` },
      `${S}encryption-recipients: "age1abc" is not an age recipient`,
    ],
    [
      'recipient: a secret key pasted, never shown',
      {
        [`${S}encryption-recipients`]:
          'AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX',
      },
      `${S}encryption-recipients: "AGE-SECRET-KEY-1…" is not an age recipient`,
    ],
    [
      'encryption-enabled',
      { [`${S}encryption-enabled`]: 'on' },
      `${S}encryption-enabled: "on" is not a boolean; accepted: "true" or "false"`,
    ],
    [
      'dump-options quote',
      { [`${S}dump-options`]: `--x 'y` },
      `${S}dump-options: "--x 'y" has an unterminated single quote`,
    ],
    [
      'dump-options newline',
      { [`${S}dump-options`]: '--a\n--b' },
      `${S}dump-options: "--a --b" contains a newline or NUL`,
    ],
    [
      'dump-options output',
      { [`${S}dump-options`]: '--file=/x.sql' },
      `${S}dump-options: "--file=/x.sql" sets --file`,
    ],
    [
      'elasticsearch-limit',
      { [`${S}elasticsearch-limit`]: '0' },
      `${S}elasticsearch-limit: "0" is not a page size`,
    ],
    ['suspend', { [`${S}suspend`]: 'paused' }, `${S}suspend: "paused" is not a boolean`],
    [
      'resources',
      { [`${S}resources`]: 'cpu=fast' },
      `${S}resources: "cpu=fast" is not a resource list`,
    ],
    [
      'resources name',
      { [`${S}resources`]: 'gpu=1' },
      `${S}resources: "gpu=1" is not a resource list`,
    ],
    [
      'compression',
      { [`${S}compression`]: 'brotli' },
      `${S}compression: "brotli" is not a compression`,
    ],
    [
      'compression level',
      { [`${S}compression`]: 'zstd:22' },
      `${S}compression: "zstd:22" is not a compression (zstd levels are 1 to 19)`,
    ],
  ])(
    'given a bad %s, when parsed, then one error names the annotation and the value',
    (_n, extra, prefix) => {
      const e = errors({ ...base, ...extra });
      expect(e).toHaveLength(1);
      expect(e[0]!.startsWith(prefix)).toBe(true);
      expect(e[0]).toContain('accepted: ');
    },
  );

  it('given no type and no schedule, when parsed, then both are reported as required', () => {
    const e = errors({ [`${S}enabled`]: 'true' });
    expect(e.map((x) => x.split(':')[0])).toEqual([`${S}type`, `${S}schedule`]);
    expect(e.every((x) => x.includes('is required'))).toBe(true);
  });

  it('given several bad values, when parsed, then every one is reported', () => {
    const e = errors({
      ...base,
      [`${S}timezone`]: 'x',
      [`${S}suspend`]: 'x',
      [`${S}version`]: 'x',
    });
    expect(e).toHaveLength(3);
  });

  it('given a long bad value, when reported, then it is shortened', () => {
    const e = errors({ ...base, [`${S}version`]: 'v'.repeat(500) });
    expect(e[0]!.length).toBeLessThan(250);
  });
});

describe('parseAnnotations: warnings', () => {
  it('given a misspelt snapkeeper.io key, when parsed, then a warning lists the known names', () => {
    const r = ok({ ...base, [`${S}retension`]: 'keep-last=3' });
    expect(r.warnings).toHaveLength(1);
    expect(r.warnings[0]).toMatch(
      /^snapkeeper\.io\/retension: unknown annotation, ignored; known: .*retention/,
    );
  });

  it('given an elasticsearch-limit on a postgresql pod, when parsed, then it is ignored with a warning', () => {
    const r = ok({ ...base, [`${S}elasticsearch-limit`]: '10' });
    expect(r.spec.esLimit).toBeUndefined();
    expect(r.warnings).toEqual([`${S}elasticsearch-limit: ignored for type postgresql`]);
  });

  it('given a misspelt required key, when parsed, then the error comes with the warning that explains it', () => {
    const r = parseAnnotations(
      { [`${S}enabled`]: 'true', [`${S}type`]: 'postgresql', [`${S}schedul`]: '0 3 * * *' },
      ctx(),
    );
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors).toEqual([expect.stringMatching(/^snapkeeper\.io\/schedule: is required/)]);
    expect(r.warnings).toEqual([
      expect.stringMatching(/^snapkeeper\.io\/schedul: unknown annotation/),
    ]);
  });
});

describe('parseAnnotations never throws', () => {
  // Values and keys drawn from pieces that hit every branch's edges.
  const alphabet = [
    'a',
    'H',
    '*',
    '/',
    '-',
    ',',
    '(',
    ')',
    '0',
    '9',
    ' ',
    "'",
    '"',
    '\\',
    '\n',
    '\0',
    '=',
    '@',
    'é',
    '🙂',
    'age1',
    'true',
    'cpu',
    '1',
  ];
  const keys = [
    'enabled',
    'type',
    'schedule',
    'timezone',
    'databases',
    'version',
    'retention',
    'encryption-recipients',
    'encryption-enabled',
    'dump-options',
    'elasticsearch-limit',
    'suspend',
    'resources',
    'bogus',
  ];

  const annotationSets = fc.dictionary(
    fc.tuple(fc.constantFrom(S, K), fc.constantFrom(...keys)).map(([p, k]) => `${p}${k}`),
    fc.array(fc.constantFrom(...alphabet), { maxLength: 11 }).map((v) => v.join('')),
    { maxKeys: 7 },
  );

  it('given 3000 random annotation sets, when parsed, then each returns a result and errors are well-formed', () => {
    fc.assert(
      fc.property(annotationSets, (annotations) => {
        const r = parseAnnotations(annotations, ctx());
        if (!r.ok) {
          expect(r.errors.length).toBeGreaterThan(0);
          for (const e of r.errors)
            expect(e).toMatch(/^(snapkeeper\.io|ksnapshot\.clickandmortar\.fr)\/[a-z-]+: /);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('given values that are not strings, when parsed, then it does not throw', () => {
    const weird = { [`${S}type`]: 5, [`${S}schedule`]: null } as unknown as Record<string, string>;
    expect(parseAnnotations(weird, ctx()).ok).toBe(false);
  });
});
