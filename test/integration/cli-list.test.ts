// `list` against S3 (versitygw): a bucket that does not exist and a
// mistyped --workload are user mistakes (exit 2, one line, the location or
// the closest workload named); an existing empty prefix is "no backups",
// exit 0. The same for a local directory: the unit test cli-list.
import { beforeAll, expect, inject, it } from 'vitest';
import { openStorage } from '../../src/storage/open.js';
import { uniqueName } from '../env/helpers.js';
import { fakeBackup, store } from '../unit/backups-fixture.js';
import { s3Env, snapkeeper } from './backup-support.js';

const s3 = inject('s3');
const s3Flags = ['--endpoint', s3.endpoint, '--region', s3.region, '--force-path-style'];
const env = s3Env(s3);
const prefix = uniqueName('list');
const from = `s3://${s3.bucket}/${prefix}`;

beforeAll(async () => {
  const storage = openStorage(from, {
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    env,
  });
  await store(storage, fakeBackup('shop/postgres', new Date('2026-11-20T03:00:00Z')));
  await store(storage, fakeBackup('billing/mariadb', new Date('2026-11-21T03:00:00Z')));
});

it('given a bucket that does not exist, then exit 2 naming it', async () => {
  const bucket = uniqueName('nobucket').replace(/_/g, '-');
  const r = await snapkeeper(['list', '--from', `s3://${bucket}/x`, ...s3Flags], env);
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe(`snapkeeper: --from s3://${bucket}/x/: no such bucket\n`);
});

it('given a workload with a typo, then exit 2 with the closest workload', async () => {
  const r = await snapkeeper(
    ['list', '--from', from, ...s3Flags, '--workload', 'shop/postgre'],
    env,
  );
  expect(r.code).toBe(2);
  expect(r.stderr).toBe(
    `snapkeeper: no workload shop/postgre in ${from}/: did you mean shop/postgres? ` +
      '(workloads there: billing/mariadb, shop/postgres)\n',
  );
});

it('given an existing empty prefix, then exit 0 and "no backups"', async () => {
  const empty = `s3://${s3.bucket}/${uniqueName('empty')}`;
  const r = await snapkeeper(['list', '--from', empty, ...s3Flags, '--workload', 'a/b'], env);
  expect(r.code).toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr).toBe(`no backups in ${empty}/ for a/b\n`);
});

it('given backups, then the default table has one row per backup and no key', async () => {
  const r = await snapkeeper(['list', '--from', from, ...s3Flags], env);
  expect(r.code).toBe(0);
  const lines = r.stdout.trimEnd().split('\n');
  expect(lines[0]).toMatch(
    /^TIME\s+WORKLOAD\s+DATABASES\s+SIZE\s+DURATION\s+ENCRYPTED\s+KEPT\s+TESTED$/,
  );
  expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[1])).toEqual([
    'billing/mariadb',
    'shop/postgres',
  ]);
});
