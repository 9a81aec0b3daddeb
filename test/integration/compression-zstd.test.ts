// Compression choice end to end, against the real servers and the reference
// binaries: `backup --compression zstd` writes `.zst` objects that the stock
// `zstd -d` (and `age -d | zstd -d`) open, records the compression per
// object in the manifest, and `list`, `verify`, `restore --stdout`,
// `restore --to` and `decrypt` read them; a gzip level is honoured; a
// manifest without the per-object field (written before zstd) reads as gzip.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ageKeypair,
  createPgDatabase,
  exec,
  pgDumpText,
  pgUrl,
  psql,
  rcloneCat,
  scratchDir,
  uniqueName,
} from '../env/helpers.js';
import { binaries } from '../env/paths.js';
import { PG_CONTENT } from '../env/hard-content.js';
import type { Manifest } from '../../src/manifest.js';
import { snapkeeper } from './backup-support.js';

const pg = inject('postgres');
const s3 = inject('s3');
const s3Flags = ['--endpoint', s3.endpoint, '--region', s3.region, '--force-path-style'];
const s3Env = { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey };

async function tool(file: string, args: string[], input: Buffer): Promise<Buffer> {
  const r = await exec(file, args, { input });
  if (r.code !== 0) throw new Error(`${file} ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe('backup --compression', () => {
  let source: string;
  let plainDump: string;
  beforeAll(async () => {
    source = await createPgDatabase(pg, uniqueName('zsrc'));
    await psql(pg, source, PG_CONTENT);
    plainDump = await pgDumpText(pg, source);
  });

  it('given zstd to S3, then a .sql.zst object the real zstd -d opens, a manifest saying zstd, and list, verify, restore --stdout and --to read it', async () => {
    const root = uniqueName('zs3');
    const from = `s3://${s3.bucket}/${root}`;
    const b = await snapkeeper(
      [
        'backup',
        pgUrl(pg, source),
        '--to',
        from,
        ...s3Flags,
        '--name',
        'shop/pg',
        '--compression',
        'zstd',
        '-o',
        'json',
      ],
      s3Env,
    );
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    const result = JSON.parse(b.stdout) as { manifestKey: string; objects: { key: string }[] };
    const key = result.objects[0]!.key;
    expect(key).toMatch(new RegExp(`/${source}\\.sql\\.zst$`));

    const manifest = JSON.parse(
      (await rcloneCat(s3, `${root}/${result.manifestKey}`)).toString(),
    ) as Manifest;
    expect(manifest.compression).toBe('zstd');
    expect(manifest.objects[0]).toMatchObject({ compression: 'zstd', compressionLevel: 3 });

    const stored = await rcloneCat(s3, `${root}/${key}`);
    const plain = await tool(binaries.zstd(), ['-d', '-q', '-c'], stored);
    expect(plain.length).toBe(manifest.objects[0]!.rawBytes);
    expect(plain.toString()).toContain('PostgreSQL database dump complete');

    const l = await snapkeeper(['list', '--from', from, ...s3Flags, '-o', 'json'], s3Env);
    expect(l.code).toBe(0);
    expect(JSON.parse(l.stdout)).toHaveLength(1);

    const v = await snapkeeper(['verify', '--from', from, ...s3Flags], s3Env);
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/\.sql\.zst\s+\S+ \S+\s+ok/);

    const out = await snapkeeper(['restore', '--from', from, ...s3Flags, '--stdout'], s3Env);
    expect(out.code).toBe(0);
    expect(Buffer.from(out.stdout).equals(plain)).toBe(true);

    const target = uniqueName('zdst');
    const r = await snapkeeper(
      ['restore', '--from', from, ...s3Flags, '--to', pgUrl(pg, target)],
      s3Env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await pgDumpText(pg, target)).toBe(plainDump);
  });

  it('given zstd:9 with age to a directory, then a .sql.zst.age file that age -d | zstd -d opens, decrypt gives the .zst, and restore --to reads it', async () => {
    const dir = await scratchDir('zage');
    const { identityFile, recipient } = await ageKeypair();
    const b = await snapkeeper([
      'backup',
      pgUrl(pg, source),
      '--to',
      dir,
      '--name',
      'shop/pg',
      '--compression',
      'zstd:9',
      '--recipient',
      recipient,
      '-o',
      'json',
    ]);
    expect(b.stderr).toBe('');
    expect(b.code).toBe(0);
    const result = JSON.parse(b.stdout) as { manifestKey: string; objects: { key: string }[] };
    const key = result.objects[0]!.key;
    expect(key).toMatch(/\.sql\.zst\.age$/);
    const manifest = JSON.parse(await readFile(join(dir, result.manifestKey), 'utf8')) as Manifest;
    expect(manifest.objects[0]).toMatchObject({ compression: 'zstd', compressionLevel: 9 });

    const stored = await readFile(join(dir, key));
    const zst = await tool(binaries.age(), ['-d', '-i', identityFile], stored);
    const plain = await tool(binaries.zstd(), ['-d', '-q', '-c'], zst);
    expect(plain.toString()).toContain('PostgreSQL database dump complete');

    const d = await snapkeeper([
      'decrypt',
      '-i',
      identityFile,
      join(dir, key),
      '-o',
      join(dir, 'x.zst'),
    ]);
    expect(d.code).toBe(0);
    expect((await readFile(join(dir, 'x.zst'))).equals(zst)).toBe(true);

    const target = uniqueName('zadst');
    const r = await snapkeeper([
      'restore',
      '--from',
      dir,
      '-i',
      identityFile,
      '--to',
      pgUrl(pg, target),
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await pgDumpText(pg, target)).toBe(plainDump);
  });

  it('given gzip:1 and gzip:9, then each object is a gzip the real gunzip opens, level 9 no larger, and a bad value exits 2 naming what is accepted', async () => {
    const sizes: number[] = [];
    for (const level of [1, 9]) {
      const dir = await scratchDir('glevel');
      const b = await snapkeeper([
        'backup',
        pgUrl(pg, source),
        '--to',
        dir,
        '--compression',
        `gzip:${level}`,
        '-o',
        'json',
      ]);
      expect(b.code).toBe(0);
      const result = JSON.parse(b.stdout) as { manifestKey: string; objects: { key: string }[] };
      expect(result.objects[0]!.key).toMatch(/\.sql\.gz$/);
      const stored = await readFile(join(dir, result.objects[0]!.key));
      const plain = await tool('gunzip', ['-c'], stored);
      expect(plain.toString()).toContain('PostgreSQL database dump complete');
      const manifest = JSON.parse(
        await readFile(join(dir, result.manifestKey), 'utf8'),
      ) as Manifest;
      expect(manifest.objects[0]).toMatchObject({ compression: 'gzip', compressionLevel: level });
      sizes.push(stored.length);
    }
    expect(sizes[1]).toBeLessThanOrEqual(sizes[0]!);

    const bad = await snapkeeper(['backup', pgUrl(pg, source), '--compression', 'zstd:42']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe(
      'snapkeeper: --compression "zstd:42": zstd levels are 1 to 19; accepted: gzip, gzip:<1-9>, zstd or zstd:<1-19>\n',
    );
  });

  it('given a manifest written before zstd (no per-object compression), then verify and restore read its object as gzip', async () => {
    const dir = await scratchDir('oldman');
    const b = await snapkeeper(['backup', pgUrl(pg, source), '--to', dir, '-o', 'json']);
    expect(b.code).toBe(0);
    const result = JSON.parse(b.stdout) as { manifestKey: string };
    const path = join(dir, result.manifestKey);
    const manifest = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown> & {
      objects: Record<string, unknown>[];
    };
    for (const o of manifest.objects) {
      delete o.compression;
      delete o.compressionLevel;
    }
    await writeFile(path, JSON.stringify(manifest, null, 2));
    const v = await snapkeeper(['verify', '--from', dir]);
    expect(v.code).toBe(0);
    expect(v.stdout).toMatch(/\.sql\.gz\s+\S+ \S+\s+ok/);
    const target = uniqueName('olddst');
    const r = await snapkeeper(['restore', '--from', dir, '--to', pgUrl(pg, target)]);
    expect(r.code).toBe(0);
    expect(await pgDumpText(pg, target)).toBe(plainDump);
  });
});
