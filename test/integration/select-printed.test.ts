// What the tool prints, it accepts: a time or a key segment from `list`, the
// `manifest:` line of `backup`, select exactly that backup in `restore` and
// `verify`. The strings are captured from real runs, not written by hand.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createPgDatabase, pgUrl, psql, scratchDir, uniqueName } from '../env/helpers.js';
import { s3Env, snapkeeper } from './backup-support.js';

const pg = inject('postgres');
const s3 = inject('s3');

const s3Flags = ['--endpoint', s3.endpoint, '--region', s3.region, '--force-path-style'];
const env = s3Env(s3);

/** A database holding one row that names it, so a restore shows whose dump it is. */
async function markedDatabase(): Promise<string> {
  const db = await createPgDatabase(pg, uniqueName('sel'));
  await psql(pg, db, `CREATE TABLE marker (who text); INSERT INTO marker VALUES ('${db}');`);
  return db;
}

/** Runs `backup`; returns the database and the location its `manifest:` line printed. */
async function backup(db: string, to: string, flags: string[]) {
  const r = await snapkeeper(
    ['backup', pgUrl(pg, db), '--to', to, ...flags, '--name', 'shop/postgres'],
    env,
  );
  expect(r.code).toBe(0);
  const manifest = /^manifest: (.+)$/m.exec(r.stdout)?.[1];
  expect(manifest).toBeDefined();
  return { db, manifest: manifest! };
}

/** The TIME and KEY cells of `list`'s table, one row per backup (one database each here). */
function tableRows(stdout: string): { time: string; key: string }[] {
  const [header, ...rows] = stdout.trimEnd().split('\n');
  expect(header).toMatch(/^TIME\s+WORKLOAD/);
  return rows.map((r) => {
    const cells = r.split(/\s{2,}/);
    return { time: cells[0]!, key: cells[cells.length - 1]! };
  });
}

const locations: [string, () => Promise<{ to: string; flags: string[] }>][] = [
  ['a local directory', async () => ({ to: await scratchDir('sel'), flags: [] })],
  ['S3', async () => ({ to: `s3://${s3.bucket}/${uniqueName('sel')}`, flags: s3Flags })],
];

describe.each(locations)('restore --at with what list prints, in %s', (_, where) => {
  let to: string;
  let flags: string[];
  let older: string;
  let newer: string;
  let rows: { time: string; key: string }[];
  beforeAll(async () => {
    ({ to, flags } = await where());
    older = (await backup(await markedDatabase(), to, flags)).db;
    newer = (await backup(await markedDatabase(), to, flags)).db;
    const l = await snapkeeper(
      // The key is in the wide table (the default one has no KEY column).
      ['list', '--from', to, ...flags, '--workload', 'shop/postgres', '-o', 'wide'],
      env,
    );
    expect(l.code).toBe(0);
    rows = tableRows(l.stdout);
    expect(rows).toHaveLength(2);
    expect(rows[0]!.key).toContain(newer);
  });

  const restoreAt = (at: string, extra: string[] = []) =>
    snapkeeper(
      [
        'restore',
        '--from',
        to,
        ...flags,
        '--workload',
        'shop/postgres',
        '--at',
        at,
        ...extra,
        '--stdout',
      ],
      env,
    );

  /** Which of the two databases a restore's output is. */
  const whose = (out: string) =>
    out.includes(newer) && !out.includes(older)
      ? 'newer'
      : out.includes(older) && !out.includes(newer)
        ? 'older'
        : 'neither';

  it("given each row's TIME exactly as printed, when restored --at it, then that row's backup", async () => {
    const got = [];
    for (const row of rows) {
      const r = await restoreAt(row.time);
      expect(r.stderr).toBe('');
      got.push(whose(r.stdout));
    }
    expect(got).toEqual(['newer', 'older']);
  });

  it("given each row's key directory segment, when given to --at or to --key, then that row's backup", async () => {
    const got = [];
    for (const row of rows) {
      const segment = row.key.split('/').at(-2)!;
      expect(segment).toMatch(/^\d{8}T\d{6}\.\d{3}Z-[a-z2-9]{6}$/);
      got.push(whose((await restoreAt(segment)).stdout));
      const k = await snapkeeper(
        [
          'restore',
          '--from',
          to,
          ...flags,
          '--workload',
          'shop/postgres',
          '--key',
          segment,
          '--stdout',
        ],
        env,
      );
      got.push(whose(k.stdout));
    }
    expect(got).toEqual(['newer', 'newer', 'older', 'older']);
  });

  it('given the time from list --output json, then that backup', async () => {
    const l = await snapkeeper(
      ['list', '--from', to, ...flags, '--workload', 'shop/postgres', '--output', 'json'],
      env,
    );
    const listed = JSON.parse(l.stdout) as { time: string }[];
    const got = [];
    for (const x of listed) got.push(whose((await restoreAt(x.time)).stdout));
    expect(got).toEqual(['newer', 'older']);
  });

  it('given --at latest or now, then the newest backup', async () => {
    for (const at of ['latest', 'now', 'LATEST']) {
      const r = await restoreAt(at);
      expect([at, r.code, whose(r.stdout)]).toEqual([at, 0, 'newer']);
    }
  });

  it('given --at with the TIME of a row, when verified, then that backup is the one checked', async () => {
    const v = await snapkeeper(
      [
        'verify',
        '--from',
        to,
        ...flags,
        '--workload',
        'shop/postgres',
        '--at',
        rows[0]!.time,
        '--output',
        'json',
      ],
      env,
    );
    expect(v.code).toBe(0);
    expect((JSON.parse(v.stdout) as { key: string }[]).map((x) => x.key)).toEqual([rows[0]!.key]);
  });
});

describe.each(locations)(
  "restore and verify --key with backup's manifest: line, in %s",
  (_, where) => {
    let to: string;
    let flags: string[];
    let older: { db: string; manifest: string };
    let newer: { db: string; manifest: string };
    beforeAll(async () => {
      const w = await where();
      // A prefix of several segments: the location must be split at the right place.
      to = `${w.to}/team/nightly`;
      flags = w.flags;
      older = await backup(await markedDatabase(), to, flags);
      newer = await backup(await markedDatabase(), to, flags);
    });

    const restoreKey = (key: string, extra: string[] = []) =>
      snapkeeper(['restore', ...flags, ...extra, '--key', key, '--stdout'], env);

    it('given the printed location alone (no --from), then that backup is restored', async () => {
      for (const b of [older, newer]) {
        const r = await restoreKey(b.manifest);
        expect([r.code, r.stderr]).toEqual([0, '']);
        expect(r.stdout).toContain(b.db);
        expect(r.stdout).not.toContain(b === older ? newer.db : older.db);
      }
    });

    it('given the location of its directory, or with the matching --from, then that backup', async () => {
      const dir = older.manifest.replace(/\/manifest\.json$/, '');
      for (const [key, extra] of [
        [dir, []],
        [dir + '/', []],
        [older.manifest, ['--from', to]],
        [older.manifest, ['--from', to + '/']],
      ] as const) {
        const r = await restoreKey(key, [...extra]);
        expect([key, r.code, r.stderr]).toEqual([key, 0, '']);
        expect(r.stdout).toContain(older.db);
      }
    });

    it('given the printed location and another --from, then exit 2 naming both', async () => {
      const r = await restoreKey(newer.manifest, ['--from', `${to}-elsewhere`]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/not in --from/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });

    it('given the printed location, when verified, then that backup is checked', async () => {
      const v = await snapkeeper(
        ['verify', ...flags, '--key', newer.manifest, '--output', 'json'],
        env,
      );
      expect(v.code).toBe(0);
      const report = JSON.parse(v.stdout) as { key: string; status: string }[];
      expect(report).toHaveLength(1);
      expect(report[0]!.key).toContain(newer.db);
      expect(report[0]!.status).toBe('ok');
    });

    it('given a location where no backup is, then exit 2 with one line', async () => {
      const gone = newer.manifest.replace(
        /[^/]+\/manifest\.json$/,
        '20200101T000000.000Z-aaaaaa/manifest.json',
      );
      const r = await restoreKey(gone);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/no backup/);
    });
  },
);

describe('restore --key with a local path relative to the working directory', () => {
  it('given the manifest path made relative, then that backup', async () => {
    const { relative } = await import('node:path');
    const dir = await scratchDir('rel');
    const b = await backup(await markedDatabase(), dir, []);
    const rel = relative(process.cwd(), b.manifest);
    expect(rel.startsWith('/')).toBe(false);
    const r = await snapkeeper(['restore', '--key', rel, '--stdout'], { SNAPKEEPER_STORAGE: '' });
    expect([r.code, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toContain(b.db);
  });
});
