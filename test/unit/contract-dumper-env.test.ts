// The environment between the operator and its Jobs (src/contract/dumper-env.ts):
// every variable a built CronJob sets is a contract name, and what the backup
// CronJob sets is what the dumper reads back (the workload, the storage, the
// key template, the termination-message path).
import { describe, expect, it } from 'vitest';
import type { V1EnvVar } from '@kubernetes/client-node';
import type { BackupSpec } from '../../src/annotations/index.js';
import { loadOperatorConfig } from '../../src/config/operator.js';
import { DUMPER_ENV, TERMINATION_MESSAGE_PATH } from '../../src/contract/dumper-env.js';
import { desiredCronJob } from '../../src/desired/cronjob.js';
import { desiredRestoreTestCronJob } from '../../src/desired/restore-test.js';
import type { WorkloadRef } from '../../src/discovery/owner.js';
import { loadDumpConfig } from '../../src/dump/config.js';

const config = loadOperatorConfig({
  SNAPKEEPER_CONTROL_NAMESPACE: 'snapkeeper',
  SNAPKEEPER_WATCH_NAMESPACES: 'shop',
  SNAPKEEPER_STORAGE: 's3://backups/prod',
  SNAPKEEPER_S3_ENDPOINT: 'http://minio.minio.svc:9000',
  SNAPKEEPER_S3_REGION: 'eu-west-3',
  SNAPKEEPER_S3_FORCE_PATH_STYLE: 'true',
  SNAPKEEPER_S3_CREDENTIALS_SECRET: 's3-creds',
  SNAPKEEPER_KEY_TEMPLATE: '{namespace}/{kind}-{workload}/{timestamp}/{database}.{ext}',
});
const workload: WorkloadRef = { namespace: 'shop', kind: 'StatefulSet', name: 'db' };
const spec: BackupSpec = {
  type: 'postgresql',
  schedule: '17 3 * * *',
  timezone: 'Etc/UTC',
  databases: ['app', 'audit'],
  clientVersion: '16',
  retention: 'keep-last=7',
  recipients: ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'],
  dumpOptions: ['--no-comments'],
  compression: { type: 'zstd', level: 3 },
  suspend: false,
};
const backup = desiredCronJob({
  workload,
  spec,
  target: { host: 'db.shop.svc', port: 5433 },
  credentials: { hasUsername: true, hasDatabase: false },
  config,
  sourcePod: 'db-0',
});
const restoreTest = desiredRestoreTestCronJob({
  workload,
  spec: { ...spec, restoreTest: { schedule: '41 5 * * *', checks: [] } },
  config,
  sourcePod: 'db-0',
});
const envOf = (cj: typeof backup): V1EnvVar[] =>
  cj.spec!.jobTemplate.spec!.template.spec!.containers[0]!.env ?? [];
const names = new Set<string>(Object.values(DUMPER_ENV));
/** Not a contract with the dumper: where tools find a home and temporary files. */
const forTheTools = new Set(['HOME', 'TMPDIR']);

describe('the environment of the built CronJobs', () => {
  it.each([
    ['backup', backup],
    ['restore-test', restoreTest],
  ])('given the %s CronJob, then every variable it sets is a contract name', (_n, cj) => {
    const set = envOf(cj).map((e) => e.name);
    expect(set.filter((n) => !names.has(n) && !forTheTools.has(n))).toEqual([]);
    expect(set).toContain(DUMPER_ENV.terminationMessagePath);
  });

  it('given the backup CronJob, when the dumper reads its environment (Secret values filled in), then it gets what the operator meant', () => {
    const env = Object.fromEntries(
      envOf(backup).map((e) => [
        e.name,
        e.value ?? `from-secret-${e.valueFrom?.secretKeyRef?.key}`,
      ]),
    );
    const c = loadDumpConfig(env);
    expect(c).toMatchObject({
      engine: 'postgresql',
      target: {
        host: 'db.shop.svc',
        port: 5433,
        databases: ['app', 'audit'],
        username: 'from-secret-username',
        password: 'from-secret-password',
        clientVersion: '16',
        extraArgs: ['--no-comments'],
      },
      recipients: spec.recipients,
      compression: { type: 'zstd', level: 3 },
      retention: 'keep-last=7',
      storage: 's3://backups/prod',
      keyTemplate: '{namespace}/{kind}-{workload}/{timestamp}/{database}.{ext}',
      workload,
      terminationMessagePath: TERMINATION_MESSAGE_PATH,
    });
    expect(env[DUMPER_ENV.s3AccessKeyId]).toBe('from-secret-AWS_ACCESS_KEY_ID');
    expect(env[DUMPER_ENV.s3ForcePathStyle]).toBe('true');
  });
});
