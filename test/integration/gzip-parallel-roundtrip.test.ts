// gzip on every core, end to end: a PostgreSQL dump of several MiB backed up
// by the real `backup` command is several gzip members; the real `gzip -t`
// and `gunzip` accept the object, gunzip's output is what pg_dump wrote, and
// `restore --to` brings the database back.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createPgDatabase,
  exec,
  pgDumpText,
  pgUrl,
  psql,
  scratchDir,
  uniqueName,
} from '../env/helpers.js';
import { snapkeeper } from './backup-support.js';

const pg = inject('postgres');

function members(data: Buffer): number {
  let n = 0;
  let rest = data;
  while (rest.length > 0) {
    const body = rest.subarray(10);
    const { engine } = inflateRawSync(body, { info: true }) as unknown as {
      engine: { bytesWritten: number };
    };
    rest = body.subarray(engine.bytesWritten + 8);
    n++;
  }
  return n;
}

describe('backup with gzip on every core', () => {
  let source: string;
  beforeAll(async () => {
    source = await createPgDatabase(pg, uniqueName('gzsrc'));
    // About 8 MiB of dump: several 1 MiB blocks.
    await psql(
      pg,
      source,
      `CREATE TABLE t (id int PRIMARY KEY, note text);
       INSERT INTO t SELECT g, md5(g::text) || ' ' || repeat('row ' || g % 97, 1 + g % 5)
       FROM generate_series(1, 100000) g;`,
    );
  });

  it('given a dump of several MiB, then the object is several gzip members that gzip -t and gunzip accept, and restore --to brings it back', async () => {
    const dir = await scratchDir('gzpar');
    const b = await snapkeeper(['backup', pgUrl(pg, source), '--to', dir, '-o', 'json']);
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    const result = JSON.parse(b.stdout) as {
      objects: { key: string }[];
      rawBytes: number;
    };
    const stored = await readFile(join(dir, result.objects[0]!.key));
    expect(result.rawBytes).toBeGreaterThan(4 * 1024 * 1024);
    expect(members(stored)).toBeGreaterThan(1);
    expect((await exec('gzip', ['-t'], { input: stored })).code).toBe(0);
    const plain = await exec('gunzip', ['-c'], { input: stored });
    expect(plain.code).toBe(0);
    expect(plain.stdout.length).toBe(result.rawBytes);
    expect(plain.stdout.toString()).toContain('COPY public.t (id, note) FROM stdin;');

    const target = uniqueName('gzdst');
    const r = await snapkeeper(['restore', '--from', dir, '--to', pgUrl(pg, target)]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await pgDumpText(pg, target)).toBe(await pgDumpText(pg, source));
  });
});
