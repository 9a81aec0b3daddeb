// Ctrl-C (SIGINT to the process group, as a terminal sends it) and SIGTERM
// (as `kill` or the kubelet sends it) in the middle of a backup and of a
// restore, against the real servers and the CLI as its own process: the
// command exits 130 / 143 and leaves nothing it created — no directory, no
// object, no open multipart upload, no database.
import { readdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  createPgDatabase,
  listAllObjects,
  listMultipartUploads,
  pgUrl,
  psql,
  scratchDir,
  uniqueName,
} from '../env/helpers.js';
import { s3Env, snapkeeper } from './backup-support.js';
import { buildCli, startCli, type CliProcess } from './cli-process.js';

const pg = inject('postgres');
const s3 = inject('s3');
const s3Flags = ['--endpoint', s3.endpoint, '--region', s3.region, '--force-path-style'];

let cli: string;
let remove: () => Promise<void>;
/** A database whose plain dump is about 200 MiB: seconds to dump, upload or restore. */
let big: string;
/** A local backup of it. */
let backups: string;

beforeAll(async () => {
  ({ cli, remove } = await buildCli());
  big = await createPgDatabase(pg, uniqueName('big'));
  await psql(
    pg,
    big,
    'CREATE TABLE big AS SELECT g, md5(g::text) || md5((g * 7)::text) AS t FROM generate_series(1, 2500000) g;',
  );
  backups = await scratchDir('bigbackup');
  const b = await snapkeeper(['backup', pgUrl(pg, big), '--to', backups, '--name', 'shop/big']);
  if (b.code !== 0) throw new Error(`backup of the big database failed: ${b.stderr}`);
});
afterAll(() => remove?.());

/** Polls `test` every 50 ms until it holds (or the CLI exits first). */
async function until(p: CliProcess, what: string, test: () => Promise<boolean>) {
  let exited = false;
  void p.exited.then(() => (exited = true));
  const deadline = Date.now() + 120_000;
  while (!(await test())) {
    if (exited) throw new Error(`the CLI exited before ${what}: ${p.output().stderr}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function filesUnder(dir: string): Promise<{ path: string; size: number }[]> {
  const out: { path: string; size: number }[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const full = join(d, e.name);
      if (e.isDirectory()) await walk(full);
      else out.push({ path: full, size: (await stat(full).catch(() => ({ size: 0 }))).size });
    }
  };
  await walk(dir);
  return out;
}

/** Ctrl-C: SIGINT to the whole process group (the CLI and the tools it started). */
const ctrlC = (p: CliProcess) => process.kill(-p.child.pid!, 'SIGINT');

function lastLine(stderr: string): string {
  return stderr.trim().split('\n').at(-1) ?? '';
}

describe('an interrupted backup leaves nothing and exits 128 + signal', () => {
  it('given a backup to a directory that does not exist yet, when Ctrl-C mid-upload, then exit 130 and no directory', async () => {
    const to = join(await scratchDir('int'), 'backups');
    const p = startCli(
      cli,
      ['backup', pgUrl(pg, big), '--to', to, '--name', 'shop/big'],
      {},
      { detached: true },
    );
    await until(p, 'the dump is being written', async () =>
      (await filesUnder(to)).some((f) => f.size > 1024 * 1024),
    );
    ctrlC(p);
    const { code } = await p.exited;
    // What was left first: that is the point.
    expect(existsSync(to)).toBe(false);
    expect(code).toBe(130);
    expect(lastLine(p.output().stderr)).toBe('snapkeeper: interrupted by SIGINT');
  });

  it('given a backup to S3, when SIGTERM once its multipart upload is open, then exit 143, no object and no open upload', async () => {
    const prefix = uniqueName('int');
    const p = startCli(
      cli,
      [
        'backup',
        pgUrl(pg, big),
        '--to',
        `s3://${s3.bucket}/${prefix}`,
        ...s3Flags,
        '--name',
        'shop/big',
      ],
      s3Env(s3),
    );
    await until(
      p,
      'a multipart upload is open',
      async () => (await listMultipartUploads(s3, s3.bucket, `${prefix}/`)).length > 0,
    );
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    // What was left first: that is the point.
    expect(await listAllObjects(s3, `${prefix}/`)).toEqual([]);
    expect(await listMultipartUploads(s3, s3.bucket, `${prefix}/`)).toEqual([]);
    expect(code).toBe(143);
    expect(lastLine(p.output().stderr)).toBe('snapkeeper: interrupted by SIGTERM');
  });
});

describe('an interrupted restore leaves nothing it created and exits 128 + signal', () => {
  const exists = async (db: string) =>
    (await psql(pg, 'postgres', `SELECT count(*) FROM pg_database WHERE datname = '${db}'`)) ===
    '1\n';
  const restoring = (p: CliProcess) =>
    until(p, 'psql is restoring', async () => p.output().stderr.includes('"msg":"restoring"'));

  it('given a database the restore creates, when Ctrl-C mid-restore, then exit 130 and the database is gone', async () => {
    const target = uniqueName('intdst');
    const p = startCli(
      cli,
      ['restore', '--from', backups, '--workload', 'shop/big', '--to', pgUrl(pg, target)],
      {},
      { detached: true },
    );
    await restoring(p);
    await until(p, 'the database exists', () => exists(target));
    await sleep(500); // well into the COPY
    ctrlC(p);
    const { code } = await p.exited;
    // What was left first: that is the point.
    expect(await exists(target)).toBe(false);
    expect(code).toBe(130);
    expect(lastLine(p.output().stderr)).toBe('snapkeeper: interrupted by SIGINT');
  });

  it('given an empty database that existed, when SIGTERM mid-restore, then exit 143, the database is kept and still empty', async () => {
    const target = await createPgDatabase(pg, uniqueName('intkeep'));
    const p = startCli(cli, [
      'restore',
      '--from',
      backups,
      '--workload',
      'shop/big',
      '--to',
      pgUrl(pg, target),
    ]);
    await restoring(p);
    await sleep(1000);
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    // What was left first: that is the point.
    expect(await exists(target)).toBe(true);
    expect(await psql(pg, target, "SELECT count(*) FROM pg_class WHERE relname = 'big'")).toBe(
      '0\n',
    );
    expect(code).toBe(143);
    expect(lastLine(p.output().stderr)).toBe('snapkeeper: interrupted by SIGTERM');
  });
});
