// The built CronJobs as the contract with the dumper (src/contract/dumper-env.ts):
// every variable they set is a contract name, the dumper reads what the
// operator meant, and the objects stay the same byte for byte.
//
// Byte for byte: Their spec-hash is what apply compares:
// a CronJob whose built object changes in any byte (a field, a value, the
// order of the environment) is rewritten on every cluster at the operator's
// upgrade, and its next Jobs run with the new spec. A refactor of the
// builders (or of the names they take from src/contract/) must leave these
// digests as they are; a deliberate change of the spec updates them, and says
// so in its commit.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import type { V1CronJob, V1EnvVar } from '@kubernetes/client-node';
import type { BackupSpec, RestoreTestSpec } from '../../src/annotations/index.js';
import { loadOperatorConfig } from '../../src/config/operator.js';
import { DUMPER_ENV, TERMINATION_MESSAGE_PATH } from '../../src/contract/dumper-env.js';
import { desiredCronJob, type DesiredCronJobInput } from '../../src/desired/cronjob.js';
import { desiredRestoreTestCronJob } from '../../src/desired/restore-test.js';
import type { WorkloadRef } from '../../src/workload.js';
import { postgresSpec } from './desired-fixture.js';
import { loadDumpConfig } from '../../src/dump/config.js';
import { operatorEnv } from './desired-fixture.js';

const images = {
  SNAPKEEPER_IMAGE_POSTGRESQL: 'registry.local/dumper-postgresql:1.2.3',
  SNAPKEEPER_IMAGE_MYSQL: 'registry.local/dumper-mysql:1.2.3',
  SNAPKEEPER_IMAGE_MARIADB: 'registry.local/dumper-mariadb:1.2.3',
  SNAPKEEPER_IMAGE_ELASTICSEARCH: 'registry.local/dumper-elasticsearch:1.2.3',
};
const s3 = loadOperatorConfig({
  ...operatorEnv,
  ...images,
  SNAPKEEPER_KEY_TEMPLATE:
    '{YYYY}/{MM}/{DD}/{type}/{namespace}-{workload}/{timestamp}/{database}.{ext}',
  SNAPKEEPER_RESTORE_TEST_IDENTITY_SECRET: 'restore-identity',
  SNAPKEEPER_RESTORE_TEST_IDENTITY_KEY: 'key.txt',
});
const plain = loadOperatorConfig({
  ...images,
  SNAPKEEPER_CONTROL_NAMESPACE: 'backups',
  SNAPKEEPER_WATCH_NAMESPACES: 'shop,search',
  SNAPKEEPER_STORAGE: 's3://plain',
});

const workload: WorkloadRef = { namespace: 'shop', kind: 'StatefulSet', name: 'db' };
const base: BackupSpec = postgresSpec;
const restoreTest: RestoreTestSpec = {
  schedule: '41 5 * * *',
  checks: ['select count(*) > 0 from orders'],
};

const backups: Record<string, DesiredCronJobInput> = {
  'postgresql, everything set, S3 with credentials': {
    workload,
    spec: {
      ...base,
      clientVersion: '16',
      retention: 'keep-last=7',
      recipients: ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'],
      dumpOptions: ['--exclude-table', 'audit log'],
      compression: { type: 'zstd', level: 3 },
      resources: { requests: { cpu: '100m' }, limits: { memory: '1Gi' } },
    },
    target: { host: 'db.shop.svc', port: 5432 },
    credentials: { hasUsername: true, hasDatabase: true },
    config: s3,
    sourcePod: 'db-0',
  },
  'mysql, databases named, no credentials in the Secret, default compression': {
    workload,
    spec: {
      ...base,
      type: 'mysql',
      databases: ['app', 'audit'],
      compression: { type: 'gzip', level: 6 },
    },
    target: { host: 'mysql.shop.svc', port: 3306 },
    credentials: { hasUsername: false, hasPassword: false, hasDatabase: false },
    config: plain,
    sourcePod: 'shop/mysql-0',
  },
  'mariadb, the database from the Secret, suspended': {
    workload: { namespace: 'shop', kind: 'Deployment', name: 'maria' },
    spec: { ...base, type: 'mariadb', suspend: true },
    target: { host: 'maria.shop.svc', port: 3306 },
    credentials: { hasUsername: true, hasDatabase: true },
    config: plain,
    sourcePod: 'maria-abc',
  },
  'elasticsearch, every index, a page size': {
    workload: { namespace: 'search', kind: 'StatefulSet', name: 'es' },
    spec: { ...base, type: 'elasticsearch', databases: '*', esLimit: 500 },
    target: { host: 'es.search.svc', port: 9200 },
    credentials: { hasUsername: true, hasDatabase: false },
    config: s3,
    sourcePod: 'es-0',
  },
};

const restoreTests = {
  'restore test with an identity Secret': {
    workload,
    spec: { ...base, restoreTest },
    config: s3,
    sourcePod: 'db-0',
  },
  'restore test without an identity, its own resources': {
    workload,
    spec: {
      ...base,
      restoreTest: {
        ...restoreTest,
        resources: { requests: { 'ephemeral-storage': '8Gi' }, limits: {} },
      },
    },
    config: plain,
    sourcePod: 'db-0',
  },
};

const digest = (o: unknown) => createHash('sha256').update(JSON.stringify(o)).digest('hex');

describe('the built CronJobs, byte for byte', () => {
  it.each([
    [
      'postgresql, everything set, S3 with credentials',
      '6ce0cb231fac690717d66c32ea77e0b0c32c08c18944658b0774633a88af1872',
    ],
    [
      'mysql, databases named, no credentials in the Secret, default compression',
      '3d6708bb35f6ecf3ee83547551f83bbb3bfeea6042d2dba1fa6b395c120ab920',
    ],
    [
      'mariadb, the database from the Secret, suspended',
      '4982e332edd979b14ff4fdfeb75f89425a7f236b41d7d61e88f6ebc172606428',
    ],
    [
      'elasticsearch, every index, a page size',
      'e5413ae7ab0a494a26d085a1ef66caa26622cafc73a2aabe7f0f841014f9b5d6',
    ],
  ])('given the backup CronJob of %s, then its JSON is unchanged', (name, expected) => {
    expect(digest(desiredCronJob(backups[name]!))).toBe(expected);
  });

  it.each([
    [
      'restore test with an identity Secret',
      'da37bd2b21c2bed5112a20cd9eff29174b76398968adc70ddfbc07aa855e8fbf',
    ],
    [
      'restore test without an identity, its own resources',
      '049e0d552e06042919cdb1690c7b9037d17088c01ea7adad6676f6b32254a9ec',
    ],
  ] as const)('given the %s, then its JSON is unchanged', (name, expected) => {
    expect(digest(desiredRestoreTestCronJob(restoreTests[name]))).toBe(expected);
  });
});

const envOf = (cj: V1CronJob): V1EnvVar[] =>
  cj.spec!.jobTemplate.spec!.template.spec!.containers[0]!.env ?? [];
const contractNames = new Set<string>(Object.values(DUMPER_ENV));
/** Not a contract with the dumper: where tools find a home and temporary files. */
const forTheTools = new Set(['HOME', 'TMPDIR']);

describe('the environment of the built CronJobs', () => {
  it('given the contract names, then every one is documented for users in docs/dump-environment.md', async () => {
    const doc = await readFile(new URL('../../docs/dump-environment.md', import.meta.url), 'utf8');
    expect([...contractNames].filter((n) => !doc.includes(`\`${n}\``))).toEqual([]);
  });

  it.each([
    ...Object.entries(backups).map(([n, i]) => [n, desiredCronJob(i)] as const),
    ...Object.entries(restoreTests).map(([n, i]) => [n, desiredRestoreTestCronJob(i)] as const),
  ])('given the CronJob of %s, then every variable it sets is a contract name', (_n, cj) => {
    const names = envOf(cj).map((e) => e.name);
    expect(names.filter((n) => !contractNames.has(n) && !forTheTools.has(n))).toEqual([]);
    expect(names).toContain(DUMPER_ENV.terminationMessagePath);
  });

  it('given a backup CronJob, when the dumper reads its environment (Secret values filled in), then it gets what the operator meant', () => {
    const input = backups['postgresql, everything set, S3 with credentials']!;
    const env = Object.fromEntries(
      envOf(desiredCronJob(input)).map((e) => [
        e.name,
        e.value ?? `from-secret-${e.valueFrom?.secretKeyRef?.key}`,
      ]),
    );
    expect(loadDumpConfig(env)).toMatchObject({
      engine: 'postgresql',
      target: {
        host: 'db.shop.svc',
        port: 5432,
        databases: ['from-secret-database'],
        username: 'from-secret-username',
        password: 'from-secret-password',
        clientVersion: '16',
        extraArgs: ['--exclude-table', 'audit log'],
      },
      recipients: input.spec.recipients,
      compression: { type: 'zstd', level: 3 },
      retention: 'keep-last=7',
      storage: 's3://backups/prod',
      keyTemplate: s3.keyTemplate,
      workload,
      terminationMessagePath: TERMINATION_MESSAGE_PATH,
    });
    expect(env[DUMPER_ENV.s3AccessKeyId]).toBe('from-secret-AWS_ACCESS_KEY_ID');
    expect(env[DUMPER_ENV.s3Endpoint]).toBe('http://minio.minio.svc:9000');
    expect(env[DUMPER_ENV.s3ForcePathStyle]).toBe('true');
  });

  it('given the mysql CronJob with named databases, then the dumper reads them and its defaults', () => {
    const env = Object.fromEntries(
      envOf(
        desiredCronJob(
          backups['mysql, databases named, no credentials in the Secret, default compression']!,
        ),
      ).map((e) => [e.name, e.value]),
    );
    expect(loadDumpConfig(env)).toMatchObject({
      engine: 'mysql',
      target: { host: 'mysql.shop.svc', port: 3306, databases: ['app', 'audit'] },
      compression: { type: 'gzip', level: 6 },
      storage: 's3://plain',
      workload,
    });
  });
});
