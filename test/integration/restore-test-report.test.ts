// `snapkeeper restore-test` the way the restore-test CronJob runs it: its
// exact arguments (`--workload`, `--output json`, `--check`, `--identity`),
// storage and S3 from the environment, and SNAPKEEPER_TERMINATION_MESSAGE_PATH
// set. Whatever happens, one report is at that path and parseReport reads it
// back: a passing test against real PostgreSQL, a mismatch against real
// MariaDB (a table's rows cut out of the stream and re-signed), no backup,
// and an encrypted backup without its key.
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { Manifest } from '../../src/manifest.js';
import { parseReport, type RestoreTestReport } from '../../src/contract/restore-test-report.js';
import type { RestoreTestResult } from '../../src/restoretest/result.js';
import {
  ageKeypair,
  awsEnv,
  createMariaDatabase,
  createPgDatabase,
  mariadbExec,
  mariadbUrl,
  pgUrl,
  psql,
  s3Client,
  scratchDir,
  uniqueName,
} from '../env/helpers.js';
import { MY_CONTENT, PG_CONTENT } from '../env/hard-content.js';
import { snapkeeper, type CliRun } from './backup-support.js';

const pg = inject('postgres');
const my = inject('mariadb');
const s3 = inject('s3');
const prefix = uniqueName('rtreport');
const storage = `s3://${s3.bucket}/${prefix}`;

async function getObject(key: string): Promise<Buffer> {
  const client = s3Client(s3);
  try {
    const r = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return Buffer.from(await r.Body!.transformToByteArray());
  } finally {
    client.destroy();
  }
}

async function putObject(key: string, body: Buffer | string): Promise<void> {
  const client = s3Client(s3);
  try {
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
  } finally {
    client.destroy();
  }
}

/** A backup of `url` for `workload` (namespace/name) under this run's prefix: its manifest key and manifest. */
async function backup(url: string, workload: string, recipient?: string) {
  const b = await snapkeeper(
    [
      'backup',
      url,
      '--to',
      storage,
      '--force-path-style',
      '--name',
      workload,
      ...(recipient ? ['--recipient', recipient] : []),
    ],
    awsEnv(s3),
  );
  expect(b.stderr).toBe('');
  expect(b.code).toBe(0);
  const l = await snapkeeper(
    ['list', '--from', storage, '--force-path-style', '--workload', workload, '-o', 'json'],
    awsEnv(s3),
  );
  const manifestKey = (JSON.parse(l.stdout) as { manifestKey: string }[])[0]!.manifestKey;
  const manifest = JSON.parse((await getObject(`${prefix}/${manifestKey}`)).toString()) as Manifest;
  return { manifestKey, manifest };
}

/**
 * The restore-test container: the CronJob's arguments and environment (no
 * flag for the storage or S3), the report read from the termination-message path.
 */
async function inCluster(
  workload: string,
  extra: string[] = [],
): Promise<{ run: CliRun; message: string; report: RestoreTestReport | undefined }> {
  const path = join(await scratchDir('rtreport'), 'termination-log');
  const run = await snapkeeper(
    ['restore-test', '--workload', workload, '--output', 'json', ...extra],
    {
      ...awsEnv(s3),
      SNAPKEEPER_STORAGE: storage,
      SNAPKEEPER_S3_FORCE_PATH_STYLE: 'true',
      SNAPKEEPER_TERMINATION_MESSAGE_PATH: path,
      SNAPKEEPER_WORKLOAD_NAMESPACE: workload.split('/')[0],
      SNAPKEEPER_WORKLOAD_NAME: workload.split('/')[1],
    },
  );
  const message = await readFile(path, 'utf8');
  return { run, message, report: parseReport(message) };
}

describe('PostgreSQL: a restore test that passes', () => {
  const workload = 'shop/postgres';
  let b: Awaited<ReturnType<typeof backup>>;
  let identityFile: string;
  beforeAll(async () => {
    const db = await createPgDatabase(pg, uniqueName('rtrep'));
    await psql(pg, db, PG_CONTENT);
    const keys = await ageKeypair();
    identityFile = keys.identityFile;
    b = await backup(pgUrl(pg, db), workload, keys.recipient);
  });

  it('given an encrypted backup and its identity, when restore-tested in the container, then exit 0 and a report of the comparison', async () => {
    const { run, message, report } = await inCluster(workload, [
      '--check',
      `select count(*) = 3002 from "Übersicht ""quoted""".notes`,
      '--identity',
      identityFile,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(message).not.toContain('\n');
    const result = JSON.parse(run.stdout) as RestoreTestResult;
    expect(result.ok).toBe(true);
    expect(report).toEqual({
      kind: 'restore-test',
      ok: true,
      backup: b.manifestKey,
      startedAt: result.startedAt,
      finishedAt: result.finishedAt,
      durationSeconds: (Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 1000,
      tables: b.manifest.contents![0]!.tables!.length,
      checks: 1,
      mismatches: [],
    });
    expect(report!.tables).toBeGreaterThan(0);
    // restore-test.json beside the manifest, as by hand
    const stored = JSON.parse(
      (
        await getObject(
          `${prefix}/${b.manifestKey.replace(/manifest\.json$/, 'restore-test.json')}`,
        )
      ).toString(),
    ) as RestoreTestResult;
    expect(stored.ok).toBe(true);
  });

  it('given the encrypted backup and no identity, then exit 2 and a failure report naming the backup', async () => {
    const { run, report } = await inCluster(workload);
    expect(run.code).toBe(2);
    expect(report).toMatchObject({ kind: 'restore-test', ok: false, backup: b.manifestKey });
    expect(report!.error).toBeTruthy();
    expect(run.stderr).toBe(`snapkeeper: ${report!.error}\n`);
    expect(report!.tables).toBeUndefined();
  });
});

describe('MariaDB: a restore test that finds a mismatch', () => {
  const workload = 'shop/mariadb';
  let b: Awaited<ReturnType<typeof backup>>;
  beforeAll(async () => {
    const db = await createMariaDatabase(my, uniqueName('rtrep'));
    await mariadbExec(my, db, MY_CONTENT);
    b = await backup(mariadbUrl(my, db), workload);
    // One row of `orders` cut out of the stream; the object re-signed.
    const obj = b.manifest.objects[0]!;
    const key = `${prefix}/${obj.key}`;
    const sql = gunzipSync(await getObject(key)).toString('utf8');
    const cut = sql.replace(/(INSERT INTO `orders` VALUES\s*)\([^\n]*?\),\s*/, '$1');
    expect(cut.length).toBeLessThan(sql.length);
    const stored = gzipSync(Buffer.from(cut));
    await putObject(key, stored);
    await putObject(
      `${prefix}/${b.manifestKey}`,
      JSON.stringify({
        ...b.manifest,
        objects: [
          {
            ...obj,
            bytes: stored.length,
            rawBytes: Buffer.byteLength(cut),
            sha256: createHash('sha256').update(stored).digest('hex'),
          },
        ],
      }),
    );
  });

  it('given the damaged backup, when restore-tested in the container, then exit 1 and the report names the table', async () => {
    const { run, report } = await inCluster(workload);
    expect(run.code).toBe(1);
    expect(report).toMatchObject({
      kind: 'restore-test',
      ok: false,
      backup: b.manifestKey,
      mismatches: ['orders: 3002 rows in the backup, 3001 restored'],
    });
    expect(report!.error).toBeUndefined();
    expect(report!.tables).toBe(b.manifest.contents![0]!.tables!.length);
    expect(run.stderr).toContain('orders: 3002 rows in the backup, 3001 restored');
  });
});

describe('no backup to test', () => {
  it('given a workload with no backup, then exit 2 and a failure report with the reason', async () => {
    const { run, report } = await inCluster('shop/never-backed-up');
    expect(run.code).toBe(2);
    expect(report).toMatchObject({ kind: 'restore-test', ok: false, mismatches: [] });
    expect(report!.backup).toBeUndefined();
    expect(report!.error).toMatch(/^no backup of shop\/never-backed-up in /);
    expect(run.stderr).toBe(`snapkeeper: ${report!.error}\n`);
  });
});
