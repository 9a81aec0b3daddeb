import { describe, expect, it } from 'vitest';
import type { BackupSpec } from '../../src/annotations/index.js';
import { desiredCronJob } from '../../src/desired/cronjob.js';
import { SOURCE_POD_ANNOTATION } from '../../src/labels.js';
import { specHash } from '../../src/desired/hash.js';
import { MAX_NAME_LENGTH, objectName } from '../../src/desired/names.js';
import { desiredSecret } from '../../src/desired/secret.js';
import type { WorkloadRef } from '../../src/workload.js';
import { SPEC_HASH_ANNOTATION } from '../../src/labels.js';
import { ownerKey } from '../../src/workload.js';
import { operatorConfig, postgresSource } from './desired-fixture.js';

const config = operatorConfig;
const workload: WorkloadRef = { namespace: 'shop', kind: 'Deployment', name: 'postgres' };
const spec: BackupSpec = {
  type: 'postgresql',
  schedule: '17 3 * * *',
  timezone: 'Europe/Paris',
  recipients: ['age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p'],
  retention: 'keep-last=7',
  dumpOptions: ['--exclude-table', 'audit log'],
  suspend: false,
};
const input = { workload, spec, ...postgresSource, config };
const secretValues = {
  username: 'app_user_x',
  password: 'Sup3r-S3cret-Pw',
  database: 'orders_db_y',
};

const envOf = (cj: ReturnType<typeof desiredCronJob>) =>
  Object.fromEntries(
    (cj.spec!.jobTemplate.spec!.template.spec!.containers[0]!.env ?? []).map((e) => [
      e.name,
      e.value ?? e.valueFrom,
    ]),
  );

describe('desiredCronJob', () => {
  const cj = desiredCronJob(input);
  const pod = cj.spec!.jobTemplate.spec!.template.spec!;
  const container = pod.containers[0]!;

  it('given a workload, when built, then it lives in the control namespace under the workload name, labelled', () => {
    expect(cj.metadata).toMatchObject({
      name: objectName(workload),
      namespace: 'snapkeeper',
      labels: {
        'app.kubernetes.io/managed-by': 'snapkeeper',
        'snapkeeper.io/workload-namespace': 'shop',
        'snapkeeper.io/workload-kind': 'Deployment',
        'snapkeeper.io/workload-name': 'postgres',
        'snapkeeper.io/type': 'postgresql',
      },
      annotations: {
        [SOURCE_POD_ANNOTATION]: 'shop/postgres-5d9c-abcde',
        'snapkeeper.io/workload': 'shop/Deployment/postgres',
      },
    });
    expect(cj.metadata).not.toHaveProperty('resourceVersion');
    expect(cj).not.toHaveProperty('status');
  });

  it('given a spec, when built, then the schedule, time zone and Job limits are set', () => {
    expect(cj.spec).toMatchObject({
      schedule: '17 3 * * *',
      timeZone: 'Europe/Paris',
      concurrencyPolicy: 'Forbid',
      suspend: false,
      startingDeadlineSeconds: config.job.startingDeadlineSeconds,
      successfulJobsHistoryLimit: config.job.successfulJobsHistoryLimit,
      failedJobsHistoryLimit: config.job.failedJobsHistoryLimit,
    });
    expect(cj.spec!.jobTemplate.spec).toMatchObject({
      backoffLimit: config.job.backoffLimit,
      activeDeadlineSeconds: config.job.activeDeadlineSeconds,
      ttlSecondsAfterFinished: config.job.ttlSecondsAfterFinished,
    });
  });

  it('given any spec, when built, then the pod is locked down', () => {
    expect(pod).toMatchObject({
      serviceAccountName: 'snapkeeper-backup',
      automountServiceAccountToken: false,
      restartPolicy: 'Never',
      securityContext: {
        runAsNonRoot: true,
        runAsUser: 65532,
        runAsGroup: 65532,
        seccompProfile: { type: 'RuntimeDefault' },
      },
    });
    expect(container).toMatchObject({
      image: 'registry.local/dumper-postgresql:1.2.3',
      args: ['dump'],
      terminationMessagePolicy: 'FallbackToLogsOnError',
      securityContext: {
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      },
      resources: config.defaultResources,
    });
    expect(container.command).toBeUndefined();
  });

  it('given PostgreSQL, when built, then no /tmp volume; given MySQL, then an emptyDir /tmp', () => {
    expect(pod.volumes).toBeUndefined();
    const mysql = desiredCronJob({ ...input, spec: { ...spec, type: 'mysql' } }).spec!.jobTemplate
      .spec!.template.spec!;
    expect(mysql.volumes?.[0]).toMatchObject({ name: 'tmp', emptyDir: {} });
    expect(mysql.containers[0]!.volumeMounts).toEqual([{ name: 'tmp', mountPath: '/tmp' }]);
  });

  it('given the dumper contract, when built, then every variable is set, credentials only from Secrets', () => {
    const secretName = objectName(workload);
    expect(envOf(cj)).toMatchObject({
      SNAPKEEPER_TYPE: 'postgresql',
      SNAPKEEPER_HOST: 'postgres.shop.svc',
      SNAPKEEPER_PORT: '5432',
      SNAPKEEPER_USERNAME: { secretKeyRef: { name: secretName, key: 'username' } },
      SNAPKEEPER_PASSWORD: { secretKeyRef: { name: secretName, key: 'password' } },
      SNAPKEEPER_DATABASES: { secretKeyRef: { name: secretName, key: 'database' } },
      SNAPKEEPER_DUMP_OPTIONS: JSON.stringify(['--exclude-table', 'audit log']),
      SNAPKEEPER_RECIPIENTS: spec.recipients.join(','),
      SNAPKEEPER_RETENTION: 'keep-last=7',
      SNAPKEEPER_STORAGE: 's3://backups/prod',
      SNAPKEEPER_KEY_TEMPLATE: config.keyTemplate,
      SNAPKEEPER_WORKLOAD_NAMESPACE: 'shop',
      SNAPKEEPER_WORKLOAD_KIND: 'Deployment',
      SNAPKEEPER_WORKLOAD_NAME: 'postgres',
      AWS_ENDPOINT_URL_S3: 'http://minio.minio.svc:9000',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: { secretKeyRef: { name: 's3-creds', key: 'AWS_ACCESS_KEY_ID' } },
      AWS_SECRET_ACCESS_KEY: { secretKeyRef: { name: 's3-creds', key: 'AWS_SECRET_ACCESS_KEY' } },
      SNAPKEEPER_S3_FORCE_PATH_STYLE: 'true',
      SNAPKEEPER_TERMINATION_MESSAGE_PATH: '/dev/termination-log',
    });
    expect(envOf(cj)).not.toHaveProperty('SNAPKEEPER_ES_LIMIT');
  });

  it.each([
    [
      'databases from the annotation',
      { spec: { ...spec, databases: ['a', 'b'] } },
      'SNAPKEEPER_DATABASES',
      'a,b',
    ],
    ['all databases', { spec: { ...spec, databases: '*' as const } }, 'SNAPKEEPER_DATABASES', '*'],
    [
      'no database known',
      { credentials: { hasUsername: true, hasDatabase: false } },
      'SNAPKEEPER_DATABASES',
      undefined,
    ],
    [
      'no username',
      { credentials: { hasUsername: false, hasDatabase: false } },
      'SNAPKEEPER_USERNAME',
      undefined,
    ],
    [
      'no password',
      { credentials: { hasUsername: true, hasPassword: false, hasDatabase: false } },
      'SNAPKEEPER_PASSWORD',
      undefined,
    ],
    [
      'an elasticsearch page size',
      { spec: { ...spec, type: 'elasticsearch' as const, esLimit: 500 } },
      'SNAPKEEPER_ES_LIMIT',
      '500',
    ],
    [
      'a client version',
      { spec: { ...spec, clientVersion: '15' } },
      'SNAPKEEPER_CLIENT_VERSION',
      '15',
    ],
    [
      'zstd compression',
      { spec: { ...spec, compression: { type: 'zstd' as const, level: 3 } } },
      'SNAPKEEPER_COMPRESSION',
      'zstd:3',
    ],
    [
      'gzip at level 9',
      { spec: { ...spec, compression: { type: 'gzip' as const, level: 9 } } },
      'SNAPKEEPER_COMPRESSION',
      'gzip:9',
    ],
    [
      // The default is not spelled out: CronJobs of workloads that choose nothing keep their spec-hash.
      'the default compression',
      { spec: { ...spec, compression: { type: 'gzip' as const, level: 6 } } },
      'SNAPKEEPER_COMPRESSION',
      undefined,
    ],
    ['no compression chosen', {}, 'SNAPKEEPER_COMPRESSION', undefined],
  ])('given %s, when built, then %s is as expected', (_n, override, name, expected) => {
    expect(envOf(desiredCronJob({ ...input, ...override }))[name]).toEqual(expected);
  });

  it('given IRSA (no credentials Secret), when built, then no AWS key variable exists', () => {
    const irsa = { ...config, s3CredentialsSecret: undefined };
    const env = envOf(desiredCronJob({ ...input, config: irsa }));
    expect(env).not.toHaveProperty('AWS_ACCESS_KEY_ID');
    expect(env).not.toHaveProperty('AWS_SECRET_ACCESS_KEY');
  });

  it('given the same inputs, when built twice, then the spec-hash is equal; given a change, then it differs', () => {
    const again = desiredCronJob(input);
    expect(again).toEqual(cj);
    const hash = cj.metadata!.annotations![SPEC_HASH_ANNOTATION];
    expect(hash).toMatch(/^[0-9a-f]{32}$/);
    for (const changed of [
      { spec: { ...spec, schedule: '18 3 * * *' } },
      { spec: { ...spec, suspend: true } },
      { target: { host: 'postgres.shop.svc', port: 6432 } },
      { sourcePod: 'postgres-5d9c-zzzzz' },
    ]) {
      expect(
        desiredCronJob({ ...input, ...changed }).metadata!.annotations![SPEC_HASH_ANNOTATION],
      ).not.toBe(hash);
    }
  });

  it('given credentials, when the Secret and CronJob are built, then no credential value appears in the CronJob', () => {
    const secret = desiredSecret({ workload, credentials: secretValues, config });
    const text = JSON.stringify(desiredCronJob(input));
    for (const value of Object.values(secretValues)) {
      expect(text).not.toContain(value);
      expect(text).not.toContain(Buffer.from(value).toString('base64'));
    }
    expect(text).not.toContain(secret.metadata!.annotations![SPEC_HASH_ANNOTATION]!);
  });
});

describe('desiredSecret', () => {
  it('given credentials, when built, then only username/password/database are mirrored, base64, labelled', () => {
    const s = desiredSecret({
      workload,
      credentials: { ...secretValues, extra: 'x' } as never,
      config,
    });
    expect(s.type).toBe('Opaque');
    expect(s.metadata).toMatchObject({
      name: objectName(workload),
      namespace: 'snapkeeper',
      labels: { 'app.kubernetes.io/managed-by': 'snapkeeper' },
    });
    expect(Object.keys(s.data!).sort()).toEqual(['database', 'password', 'username']);
    expect(Buffer.from(s.data!.password!, 'base64').toString()).toBe(secretValues.password);
  });

  it('given no password, when built, then the key is absent; given another password, then the hash differs', () => {
    const none = desiredSecret({ workload, credentials: { username: 'elastic' }, config });
    expect(Object.keys(none.data!)).toEqual(['username']);
    const a = desiredSecret({ workload, credentials: { username: 'u', password: 'a' }, config });
    const b = desiredSecret({ workload, credentials: { username: 'u', password: 'b' }, config });
    expect(a.metadata!.annotations![SPEC_HASH_ANNOTATION]).not.toBe(
      b.metadata!.annotations![SPEC_HASH_ANNOTATION],
    );
  });
});

describe('owned objects of a long-named workload', () => {
  const long: WorkloadRef = {
    namespace: 'shop',
    kind: 'StatefulSet',
    name: `pg-${'n'.repeat(120)}`,
  };
  const cronJob = desiredCronJob({ ...input, workload: long });
  const secret = desiredSecret({ workload: long, credentials: secretValues, config });

  it.each([
    ['CronJob', cronJob],
    ['Secret', secret],
  ])(
    'given a name longer than a label, when the %s is built, then the name label is cut but the workload annotation holds the full key',
    (_kind, obj) => {
      expect(obj.metadata!.labels!['snapkeeper.io/workload-name']!.length).toBeLessThanOrEqual(63);
      expect(obj.metadata!.annotations!['snapkeeper.io/workload']).toBe(
        `shop/StatefulSet/${long.name}`,
      );
      expect(ownerKey(obj)).toBe(`shop/StatefulSet/${long.name}`);
    },
  );

  it('given an owned object written before the annotation existed, then its workload still comes from short labels, and a cut label gives nothing', () => {
    const old = desiredSecret({ workload, credentials: secretValues, config });
    delete old.metadata!.annotations!['snapkeeper.io/workload'];
    expect(ownerKey(old)).toBe('shop/Deployment/postgres');
    const cut = { ...secret, metadata: { ...secret.metadata, annotations: {} } };
    expect(ownerKey(cut)).toBeUndefined();
  });
});

describe('objectName', () => {
  const long = 'x'.repeat(253);
  it.each([
    [{ namespace: 'shop', kind: 'Deployment', name: 'postgres' }],
    [{ namespace: 'a'.repeat(63), kind: 'StatefulSet', name: long }],
    [{ namespace: 'shop', kind: 'Pod', name: 'Weird.Name_with.dots' }],
    [{ namespace: 'n', kind: 'Pod', name: '----' }],
  ] as { namespace: string; kind: WorkloadRef['kind']; name: string }[][])(
    'given %j, when named, then it is a DNS label of at most 52 characters',
    (w) => {
      const name = objectName(w);
      expect(name.length).toBeLessThanOrEqual(MAX_NAME_LENGTH);
      expect(name).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
      expect(name.startsWith('snapkeeper-')).toBe(true);
    },
  );

  it('given workloads differing only in kind or past the cut, when named, then names differ; the same workload, the same name', () => {
    const a = objectName({ namespace: 'shop', kind: 'Deployment', name: `${long}a` });
    const b = objectName({ namespace: 'shop', kind: 'Deployment', name: `${long}b` });
    const c = objectName({ namespace: 'shop', kind: 'StatefulSet', name: `${long}a` });
    expect(new Set([a, b, c]).size).toBe(3);
    expect(objectName({ namespace: 'shop', kind: 'Deployment', name: `${long}a` })).toBe(a);
  });
});

describe('specHash', () => {
  it('given objects equal up to key order and undefined fields, when hashed, then hashes are equal', () => {
    expect(specHash({ a: 1, b: { c: [1, 2], d: undefined } })).toBe(
      specHash({ b: { c: [1, 2] }, a: 1 }),
    );
  });
  it.each([
    [{ a: 1 }, { a: 2 }],
    [{ a: [1, 2] }, { a: [2, 1] }],
    [{ a: '1' }, { a: 1 }],
    [{ a: null }, {}],
  ])('given %j and %j, when hashed, then hashes differ', (x, y) => {
    expect(specHash(x)).not.toBe(specHash(y));
  });
});
