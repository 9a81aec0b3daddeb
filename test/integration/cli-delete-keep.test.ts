// `delete`, `keep` and `unkeep` through the built CLI, on backups a real
// `backup` of a real PostgreSQL wrote, in a local directory and in S3: a kept
// backup survives the dumper's retention (`backup --retention`) and `prune`;
// a delete that stopped between its objects and its manifest lists as
// incomplete and the next prune finishes it; in a terminal, delete asks.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openStorage } from '../../src/storage/open.js';
import type { Storage } from '../../src/storage/types.js';
import { createPgDatabase, exec, pgUrl, psql, scratchDir, uniqueName } from '../env/helpers.js';
import { s3Env } from './backup-support.js';
import { buildCli, runBuiltCli } from './cli-process.js';

const pg = inject('postgres');
const s3 = inject('s3');
const s3Flags = ['--endpoint', s3.endpoint, '--region', s3.region, '--force-path-style'];
const env = s3Env(s3);

let cli: string;
let remove: () => Promise<void>;
let db: string;
beforeAll(async () => {
  ({ cli, remove } = await buildCli());
  db = await createPgDatabase(pg, uniqueName('keep'));
  await psql(pg, db, `CREATE TABLE t (x int); INSERT INTO t VALUES (1);`);
});
afterAll(() => remove());

const run = (argv: string[]) => runBuiltCli(cli, argv, { ...env, SNAPKEEPER_LOG_LEVEL: 'warn' });

interface Listed {
  time: string;
  manifestKey: string;
  kept: boolean;
  incomplete: boolean;
}

const locations: [string, () => Promise<{ to: string; flags: string[] }>][] = [
  ['a local directory', async () => ({ to: await scratchDir('keep'), flags: [] })],
  ['S3', async () => ({ to: `s3://${s3.bucket}/${uniqueName('keep')}`, flags: s3Flags })],
];

describe.each(locations)('delete, keep and unkeep, in %s', (_, where) => {
  let to: string;
  let flags: string[];
  let storage: Storage;
  const list = async (): Promise<Listed[]> => {
    const r = await run(['list', '--from', to, ...flags, '-o', 'json']);
    expect(r.stderr).toBe('');
    return JSON.parse(r.stdout.toString()) as Listed[];
  };
  const backup = async (extra: string[] = []) => {
    const r = await run([
      'backup',
      pgUrl(pg, db),
      '--to',
      to,
      ...flags,
      '--name',
      'shop/postgres',
      ...extra,
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  };
  const keys = async () => {
    const out: string[] = [];
    for await (const o of storage.list('')) out.push(o.key);
    return out.sort();
  };
  beforeAll(async () => {
    ({ to, flags } = await where());
    storage = openStorage(to, {
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      env,
    });
    for (let i = 0; i < 3; i++) await backup();
  });

  it('given a kept backup, then the dumper retention and prune keep it, delete refuses it until unkeep', async () => {
    const [, , oldest] = await list();
    const k = await run(['keep', '--from', to, ...flags, oldest!.time]);
    expect(k.stderr).toBe('');
    expect(k.code).toBe(0);
    expect((await list()).map((b) => b.kept)).toEqual([false, false, true]);
    expect(await keys()).toContain(oldest!.manifestKey.replace(/manifest\.json$/, 'keep.json'));

    // The dumper's retention after a backup: keep-last=1 leaves the new one and the kept one.
    await backup(['--retention', 'keep-last=1']);
    const after = await list();
    expect(after).toHaveLength(2);
    expect(after[1]!.manifestKey).toBe(oldest!.manifestKey);

    const dry = await run([
      'prune',
      '--from',
      to,
      ...flags,
      '--workload',
      'shop/postgres',
      '--retention',
      'keep-last=1',
      '--dry-run',
    ]);
    expect(dry.code).toBe(0);
    const row = dry.stdout
      .toString()
      .split('\n')
      .find((l) => l.includes(oldest!.manifestKey));
    expect(row).toMatch(/^\S+\s+keep\s+keep\s+/);

    const refused = await run(['delete', '--from', to, ...flags, oldest!.time, '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^snapkeeper: .* is kept \(snapkeeper keep\): unkeep it first[^\n]*\n$/,
    );
    expect((await run(['unkeep', '--from', to, ...flags, oldest!.time])).code).toBe(0);
    expect((await list()).map((b) => b.kept)).toEqual([false, false]);
  });

  it('given no --yes outside a terminal, then one line, exit 2, nothing deleted', async () => {
    const before = await keys();
    const r = await run(['delete', '--from', to, ...flags, 'latest']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^snapkeeper: not a terminal, so nobody can confirm: pass --yes [^\n]*\n$/,
    );
    expect(await keys()).toEqual(before);
  });

  it('given a delete stopped after the objects, then list says incomplete and the next prune finishes it', async () => {
    await backup();
    const [newest] = await list();
    const dir = newest!.manifestKey.slice(0, newest!.manifestKey.lastIndexOf('/') + 1);
    // The first of delete's two steps, as it does it: everything but the manifest.
    const objects = (await keys()).filter((k) => k.startsWith(dir) && !k.endsWith('manifest.json'));
    expect(objects.length).toBeGreaterThan(0);
    await storage.delete(objects);
    const listed = await list();
    expect(listed[0]).toMatchObject({ manifestKey: newest!.manifestKey, incomplete: true });
    expect(listed.slice(1).every((b) => !b.incomplete)).toBe(true);

    // A policy that keeps everything complete still finishes the incomplete one.
    const p = await run([
      'prune',
      '--from',
      to,
      ...flags,
      '--workload',
      'shop/postgres',
      '--retention',
      'keep-last=10',
      '-o',
      'json',
    ]);
    expect(p.code).toBe(0);
    const result = JSON.parse(p.stdout.toString()) as {
      removed: { manifestKey: string; incomplete?: boolean }[];
    };
    expect(result.removed).toEqual([
      { manifestKey: newest!.manifestKey, keys: expect.any(Array), incomplete: true },
    ]);
    expect((await keys()).filter((k) => k.startsWith(dir))).toEqual([]);
    expect((await list()).map((b) => b.manifestKey)).toEqual(
      listed.slice(1).map((b) => b.manifestKey),
    );
  });

  it('given --yes, then the backup is gone, objects and manifest, and only it', async () => {
    const before = await list();
    const victim = before[0]!;
    const r = await run(['delete', '--from', to, ...flags, victim.time, '--yes']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toMatch(/^deleted .*manifest\.json \(\d+ file\(s\), /);
    const dir = victim.manifestKey.slice(0, victim.manifestKey.lastIndexOf('/') + 1);
    expect((await keys()).filter((k) => k.startsWith(dir))).toEqual([]);
    expect((await list()).map((b) => b.manifestKey)).toEqual(
      before.slice(1).map((b) => b.manifestKey),
    );
  });
});

describe('delete in a terminal', () => {
  const socket = uniqueName('tmux');
  const tmux = (...args: string[]) => exec('tmux', ['-L', socket, ...args], { timeoutMs: 10_000 });
  afterAll(() => tmux('kill-server'));

  /** Starts `snapkeeper delete` in a tmux pane, answers, returns the screen once it has exited. */
  async function answer(from: string, name: string, keys: string): Promise<string> {
    const session = uniqueName('s');
    const cmd = [process.execPath, cli, 'delete', '--from', from, name]
      .map((a) => `'${a}'`)
      .join(' ');
    expect(
      (
        await tmux(
          'new-session',
          '-d',
          '-s',
          session,
          '-x',
          '120',
          '-y',
          '20',
          `${cmd}; echo "exit=$?"; sleep 30`,
        )
      ).code,
    ).toBe(0);
    const screen = async () =>
      (await tmux('capture-pane', '-p', '-J', '-t', session)).stdout.toString();
    for (let i = 0; i < 100 && !(await screen()).includes('[y/N]'); i++) await sleep(100);
    await tmux('send-keys', '-t', session, ...(keys === 'C-c' ? [keys] : [keys, 'Enter']));
    for (let i = 0; i < 100 && !(await screen()).includes('exit='); i++) await sleep(100);
    const shown = await screen();
    await tmux('kill-session', '-t', session);
    return shown;
  }

  it('given n or Ctrl-C, then nothing is deleted; given y, then the backup is', async () => {
    const from = await scratchDir('tty');
    const b = await run(['backup', pgUrl(pg, db), '--to', from, '--name', 'shop/postgres']);
    expect(b.code).toBe(0);
    const l = await run(['list', '--from', from, '-o', 'json']);
    const [only] = JSON.parse(l.stdout.toString()) as Listed[];

    const no = await answer(from, only!.time, 'n');
    expect(no).toMatch(/delete the backup of shop\/postgres from .* \[y\/N\] n\n/);
    expect(no).toMatch(/not deleted\n/);
    expect(no).toMatch(/exit=0/);
    expect(
      JSON.parse((await run(['list', '--from', from, '-o', 'json'])).stdout.toString()),
    ).toHaveLength(1);

    const interrupted = await answer(from, only!.time, 'C-c');
    expect(interrupted).toMatch(/snapkeeper: interrupted by SIGINT\n/);
    expect(interrupted).toMatch(/exit=130/);
    expect(
      JSON.parse((await run(['list', '--from', from, '-o', 'json'])).stdout.toString()),
    ).toHaveLength(1);

    const yes = await answer(from, only!.time, 'y');
    expect(yes).toMatch(/\[y\/N\] y\ndeleted .*manifest\.json/);
    expect(yes).toMatch(/exit=0/);
    const after = await run(['list', '--from', from, '-o', 'json']);
    expect(JSON.parse(after.stdout.toString())).toEqual([]);
  });
});
