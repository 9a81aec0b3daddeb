// The desired restore-test CronJob (the contract between the operator and the
// restore-test container): its exact shape, its name, its hash, and nothing
// secret in it.
import { describe, expect, it } from 'vitest';
import type { BackupSpec, RestoreTestSpec } from '../../src/annotations/index.js';
import { loadOperatorConfig } from '../../src/config/operator.js';
import { desiredCronJob } from '../../src/desired/cronjob.js';
import { specHash } from '../../src/desired/hash.js';
import { MAX_NAME_LENGTH, objectName } from '../../src/desired/names.js';
import {
  desiredRestoreTestCronJob,
  restoreTestObjectName,
} from '../../src/desired/restore-test.js';
import type { WorkloadRef } from '../../src/workload.js';
import { JOB_KIND_LABEL, SPEC_HASH_ANNOTATION } from '../../src/labels.js';
import { ownerKey } from '../../src/workload.js';
import { operatorConfig, operatorEnv, postgresSource } from './desired-fixture.js';

const config = operatorConfig;
const withIdentity = loadOperatorConfig({
  ...operatorEnv,
  SNAPKEEPER_RESTORE_TEST_IDENTITY_SECRET: 'restore-identity',
  SNAPKEEPER_RESTORE_TEST_IDENTITY_KEY: 'key.txt',
});
const workload: WorkloadRef = { namespace: 'shop', kind: 'Deployment', name: 'postgres' };
const restoreTest: RestoreTestSpec = {
  schedule: '41 5 * * *',
  checks: ['select count(*) > 0 from orders', "select 'a b' = 'a b'"],
};
const spec: BackupSpec & { restoreTest: RestoreTestSpec } = {
  type: 'postgresql',
  schedule: '17 3 * * *',
  timezone: 'Europe/Paris',
  recipients: ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'],
  retention: 'keep-last=7',
  dumpOptions: [],
  suspend: false,
  restoreTest,
};
const input = { workload, spec, config, sourcePod: 'postgres-5d9c-abcde' };
const labels = {
  'app.kubernetes.io/managed-by': 'snapkeeper',
  'snapkeeper.io/workload-namespace': 'shop',
  'snapkeeper.io/workload-kind': 'Deployment',
  'snapkeeper.io/workload-name': 'postgres',
  'snapkeeper.io/type': 'postgresql',
  'snapkeeper.io/job-kind': 'restore-test',
};

describe('desiredRestoreTestCronJob', () => {
  const cj = desiredRestoreTestCronJob(input);
  const backup = desiredCronJob({ workload, spec, ...postgresSource, config });

  it('given a workload with a restore test, then the CronJob has exactly the contract shape', () => {
    const { annotations, ...meta } = cj.metadata!;
    expect(meta).toEqual({
      name: restoreTestObjectName(workload),
      namespace: 'snapkeeper',
      labels,
    });
    expect(annotations).toEqual({
      'snapkeeper.io/workload': 'shop/Deployment/postgres',
      'snapkeeper.io/source-pod': 'shop/postgres-5d9c-abcde',
      [SPEC_HASH_ANNOTATION]: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(cj.spec).toEqual({
      schedule: '41 5 * * *',
      timeZone: 'Europe/Paris',
      concurrencyPolicy: 'Forbid',
      suspend: false,
      startingDeadlineSeconds: 3600,
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
      jobTemplate: {
        metadata: { labels },
        spec: {
          backoffLimit: 0,
          activeDeadlineSeconds: 10_800,
          ttlSecondsAfterFinished: 604_800,
          template: {
            metadata: { labels },
            spec: {
              serviceAccountName: 'snapkeeper-backup',
              automountServiceAccountToken: false,
              restartPolicy: 'Never',
              enableServiceLinks: false,
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 65532,
                runAsGroup: 65532,
                fsGroup: 65532,
                seccompProfile: { type: 'RuntimeDefault' },
              },
              containers: [
                {
                  name: 'restore-test',
                  image: 'registry.local/dumper-postgresql:1.2.3',
                  imagePullPolicy: 'IfNotPresent',
                  args: [
                    'restore-test',
                    '--workload',
                    'shop/postgres',
                    '--output',
                    'json',
                    '--check',
                    'select count(*) > 0 from orders',
                    '--check',
                    "select 'a b' = 'a b'",
                  ],
                  env: [
                    { name: 'SNAPKEEPER_STORAGE', value: 's3://backups/prod' },
                    { name: 'SNAPKEEPER_KEY_TEMPLATE', value: config.keyTemplate },
                    { name: 'SNAPKEEPER_WORKLOAD_NAMESPACE', value: 'shop' },
                    { name: 'SNAPKEEPER_WORKLOAD_KIND', value: 'Deployment' },
                    { name: 'SNAPKEEPER_WORKLOAD_NAME', value: 'postgres' },
                    { name: 'AWS_ENDPOINT_URL_S3', value: 'http://minio.minio.svc:9000' },
                    { name: 'AWS_REGION', value: 'us-east-1' },
                    {
                      name: 'AWS_ACCESS_KEY_ID',
                      valueFrom: { secretKeyRef: { name: 's3-creds', key: 'AWS_ACCESS_KEY_ID' } },
                    },
                    {
                      name: 'AWS_SECRET_ACCESS_KEY',
                      valueFrom: {
                        secretKeyRef: { name: 's3-creds', key: 'AWS_SECRET_ACCESS_KEY' },
                      },
                    },
                    { name: 'SNAPKEEPER_S3_FORCE_PATH_STYLE', value: 'true' },
                    { name: 'SNAPKEEPER_TERMINATION_MESSAGE_PATH', value: '/dev/termination-log' },
                    { name: 'HOME', value: '/tmp' },
                    { name: 'TMPDIR', value: '/tmp' },
                  ],
                  resources: {
                    requests: { cpu: '500m', memory: '1Gi', 'ephemeral-storage': '4Gi' },
                    limits: { memory: '1Gi' },
                  },
                  securityContext: {
                    readOnlyRootFilesystem: true,
                    allowPrivilegeEscalation: false,
                    privileged: false,
                    capabilities: { drop: ['ALL'] },
                  },
                  terminationMessagePath: '/dev/termination-log',
                  terminationMessagePolicy: 'File',
                  volumeMounts: [
                    { name: 'tmp', mountPath: '/tmp' },
                    { name: 'dshm', mountPath: '/dev/shm' },
                  ],
                },
              ],
              volumes: [
                { name: 'tmp', emptyDir: { sizeLimit: '4Gi' } },
                { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '256Mi' } },
              ],
            },
          },
        },
      },
    });
  });

  it('given the backup CronJob of the same workload, then the storage variables are exactly its own', () => {
    const names = [
      'SNAPKEEPER_STORAGE',
      'SNAPKEEPER_KEY_TEMPLATE',
      'SNAPKEEPER_WORKLOAD_NAMESPACE',
      'SNAPKEEPER_WORKLOAD_KIND',
      'SNAPKEEPER_WORKLOAD_NAME',
      'AWS_ENDPOINT_URL_S3',
      'AWS_REGION',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
      'SNAPKEEPER_S3_FORCE_PATH_STYLE',
    ];
    const pick = (c: typeof cj) =>
      c.spec!.jobTemplate.spec!.template.spec!.containers[0]!.env!.filter((e) =>
        names.includes(e.name),
      );
    expect(pick(cj)).toEqual(pick(backup));
    expect(pick(cj)).toHaveLength(names.length);
    const b = backup.spec!.jobTemplate.spec!.template.spec!;
    const r = cj.spec!.jobTemplate.spec!.template.spec!;
    expect(r.containers[0]!.image).toBe(b.containers[0]!.image);
    expect(r.serviceAccountName).toBe(b.serviceAccountName);
    expect(r.securityContext).toEqual(b.securityContext);
    expect(r.containers[0]!.securityContext).toEqual(b.containers[0]!.securityContext);
  });

  it('given a workload, then the restore test gets no database credentials: no mirrored Secret, no host', () => {
    const text = JSON.stringify(cj);
    expect(text).not.toContain(objectName(workload) + '"');
    expect(text).not.toContain('SNAPKEEPER_PASSWORD');
    expect(text).not.toContain('SNAPKEEPER_HOST');
    expect(text).not.toContain('postgres.shop.svc');
  });

  it('given the backup CronJob, then the names differ, both are DNS labels of at most 52, and both give the workload back', () => {
    expect(cj.metadata!.name).toBe('snapkeeper-shop-postgres-rt-' + objectName(workload).slice(-6));
    expect(cj.metadata!.name).not.toBe(backup.metadata!.name);
    expect(ownerKey(cj)).toBe('shop/Deployment/postgres');
    expect(backup.metadata!.labels![JOB_KIND_LABEL]).toBeUndefined();
  });

  it.each([
    { namespace: 'shop', kind: 'Deployment' as const, name: 'p'.repeat(253) },
    { namespace: 'n'.repeat(63), kind: 'StatefulSet' as const, name: 'Weird_Name.x' },
    { namespace: 'a', kind: 'Pod' as const, name: 'b' },
  ])('given workload %#, then the name is a DNS label of at most 52 characters', (w) => {
    const name = restoreTestObjectName(w);
    expect(name.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(name).toMatch(/-rt-[0-9a-f]{6}$/);
    expect(name).not.toBe(objectName(w));
  });

  it('given two workloads whose names cut alike, then their restore-test names differ', () => {
    const a = restoreTestObjectName({
      namespace: 'shop',
      kind: 'Deployment',
      name: 'x'.repeat(60),
    });
    const b = restoreTestObjectName({
      namespace: 'shop',
      kind: 'StatefulSet',
      name: 'x'.repeat(60),
    });
    expect(a).not.toBe(b);
  });

  it('given an identity Secret in the config, then it is mounted read-only at 0400 and passed by path, its content nowhere', () => {
    const c = desiredRestoreTestCronJob({ ...input, config: withIdentity });
    const pod = c.spec!.jobTemplate.spec!.template.spec!;
    const container = pod.containers[0]!;
    expect(container.args!.slice(-2)).toEqual([
      '--identity',
      '/var/run/snapkeeper/identity/key.txt',
    ]);
    expect(pod.volumes).toContainEqual({
      name: 'identity',
      secret: {
        secretName: 'restore-identity',
        items: [{ key: 'key.txt', path: 'key.txt' }],
        defaultMode: 0o400,
      },
    });
    expect(container.volumeMounts).toContainEqual({
      name: 'identity',
      mountPath: '/var/run/snapkeeper/identity',
      readOnly: true,
    });
    expect(JSON.stringify(c)).not.toMatch(/AGE-SECRET-KEY/);
    expect(c.metadata!.annotations![SPEC_HASH_ANNOTATION]).not.toBe(
      cj.metadata!.annotations![SPEC_HASH_ANNOTATION],
    );
  });

  it('given restore-test-resources with ephemeral-storage, then it sizes /tmp; without, the chart default does', () => {
    const big = desiredRestoreTestCronJob({
      ...input,
      spec: {
        ...spec,
        restoreTest: {
          ...restoreTest,
          resources: {
            requests: { memory: '2Gi', 'ephemeral-storage': '20Gi' },
            limits: { memory: '2Gi', 'ephemeral-storage': '30Gi' },
          },
        },
      },
    });
    const tmp = (c: typeof cj) =>
      c.spec!.jobTemplate.spec!.template.spec!.volumes!.find((v) => v.name === 'tmp')!.emptyDir;
    expect(tmp(big)).toEqual({ sizeLimit: '30Gi' });
    const noStorage = desiredRestoreTestCronJob({
      ...input,
      spec: {
        ...spec,
        restoreTest: { ...restoreTest, resources: { requests: { memory: '2Gi' }, limits: {} } },
      },
    });
    expect(tmp(noStorage)).toEqual({ sizeLimit: '4Gi' });
    expect(noStorage.spec!.jobTemplate.spec!.template.spec!.containers[0]!.resources).toEqual({
      requests: { memory: '2Gi' },
      limits: {},
    });
  });

  it('given the same inputs, then the same hash; a changed check, schedule or suspend changes it', () => {
    const h = (c: typeof cj) => c.metadata!.annotations![SPEC_HASH_ANNOTATION];
    expect(h(desiredRestoreTestCronJob(input))).toBe(h(cj));
    const { [SPEC_HASH_ANNOTATION]: own, ...rest } = cj.metadata!.annotations!;
    expect(own).toBe(specHash({ ...cj, metadata: { ...cj.metadata, annotations: rest } }));
    for (const changed of [
      { ...spec, restoreTest: { ...restoreTest, checks: ['select false'] } },
      { ...spec, restoreTest: { ...restoreTest, schedule: '0 1 * * *' } },
      { ...spec, suspend: true },
    ]) {
      expect(h(desiredRestoreTestCronJob({ ...input, spec: changed }))).not.toBe(h(cj));
    }
  });

  it('given a change of the backup-only settings, then the restore-test CronJob does not change', () => {
    const h = (c: typeof cj) => c.metadata!.annotations![SPEC_HASH_ANNOTATION];
    const other = desiredRestoreTestCronJob({
      ...input,
      spec: { ...spec, schedule: '0 0 * * *', retention: 'keep-last=1', dumpOptions: ['-x'] },
    });
    expect(h(other)).toBe(h(cj));
  });
});
