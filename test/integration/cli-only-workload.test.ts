// `restore` and `verify` without --workload, through the built CLI: a
// location that holds backups of one workload needs no --workload; one that
// holds several is a user mistake that names them (one line, exit 2).
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openStorage } from '../../src/storage/open.js';
import { scratchDir, uniqueName } from '../env/helpers.js';
import { fakeBackup, store } from '../unit/backups-fixture.js';
import { s3Env } from './backup-support.js';
import { buildCli, runBuiltCli } from './cli-process.js';

const s3 = inject('s3');
const s3Flags = ['--endpoint', s3.endpoint, '--region', s3.region, '--force-path-style'];
const env = s3Env(s3);

let cli: string;
let remove: () => Promise<void>;
beforeAll(async () => ({ cli, remove } = await buildCli()));
afterAll(() => remove());

const run = (argv: string[]) => runBuiltCli(cli, argv, { ...env, SNAPKEEPER_LOG_LEVEL: 'warn' });

const locations: [string, () => Promise<{ to: string; flags: string[] }>][] = [
  ['a local directory', async () => ({ to: await scratchDir('only'), flags: [] })],
  ['S3', async () => ({ to: `s3://${s3.bucket}/${uniqueName('only')}`, flags: s3Flags })],
];

describe.each(locations)('without --workload, in %s', (_, where) => {
  let to: string;
  let flags: string[];
  const older = fakeBackup('shop/postgres', new Date('2026-11-19T03:00:00Z'));
  const newer = fakeBackup('shop/postgres', new Date('2026-11-20T03:00:00Z'));
  const other = fakeBackup('billing/mariadb', new Date('2026-11-21T03:00:00Z'));
  beforeAll(async () => {
    ({ to, flags } = await where());
    const storage = openStorage(to, {
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      env,
    });
    await store(storage, older);
    await store(storage, newer);
  });

  it('given one workload, then restore uses its newest backup and verify checks it', async () => {
    const r = await run(['restore', '--from', to, ...flags, '--stdout']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe(gunzipSync(newer.objects[0]!.data).toString());

    const v = await run(['verify', '--from', to, ...flags, '--at', '2026-11-19']);
    expect(v.code).toBe(0);
    expect(v.stdout.toString()).toContain(older.objects[0]!.key);
    expect(v.stdout.toString()).toMatch(/\bok\b/);
  });

  it('given two workloads, then restore and verify name both, one line, exit 2', async () => {
    const storage = openStorage(to, {
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      env,
    });
    await store(storage, other);
    for (const cmd of [['restore', '--stdout'], ['verify']]) {
      const r = await run([...cmd, '--from', to, ...flags]);
      expect(r.code).toBe(2);
      expect(r.stdout.toString()).toBe('');
      expect(r.stderr).toMatch(
        /^snapkeeper: .* holds backups of 2 workloads \(billing\/mariadb, shop\/postgres\): choose one with --workload\n$/,
      );
    }
    // --workload still chooses, and a key names its backup whatever its workload.
    const w = await run([
      'restore',
      '--from',
      to,
      ...flags,
      '--workload',
      'billing/mariadb',
      '--stdout',
    ]);
    expect(w.code).toBe(0);
    expect(w.stdout.toString()).toBe(gunzipSync(other.objects[0]!.data).toString());
    const k = await run([
      'restore',
      '--from',
      to,
      ...flags,
      '--key',
      older.manifestKey,
      '--stdout',
    ]);
    expect(k.code).toBe(0);
    expect(k.stdout.toString()).toBe(gunzipSync(older.objects[0]!.data).toString());
  });
});
