import { describe, expect, it } from 'vitest';
import { DEFAULT_KEY_TEMPLATE } from '../../src/contract/key-template.js';
import { loadOperatorConfig } from '../../src/config/operator.js';
import { ConfigError } from '../../src/errors.js';

const minimal = { SNAPKEEPER_WATCH_NAMESPACES: 'shop', SNAPKEEPER_STORAGE: 's3://backups/prod' };
const recipient = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadOperatorConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return [...err.problems];
    throw err;
  }
  return [];
}

describe('loadOperatorConfig', () => {
  it('given only the required variables, when loaded, then every documented default applies', () => {
    const c = loadOperatorConfig({ ...minimal, POD_NAME: 'op-1' });
    expect(c.controlNamespace).toBe('snapkeeper');
    expect(c.watchNamespaces).toEqual(['shop']);
    expect(c.imagePullPolicy).toBe('IfNotPresent');
    expect(c.backupServiceAccount).toBe('snapkeeper-backup');
    expect(c.keyTemplate).toBe(DEFAULT_KEY_TEMPLATE);
    expect(c.defaultRecipients).toEqual([]);
    expect(c.defaultEncryption).toBe(false);
    expect(c.defaultResources).toEqual({
      requests: { cpu: '100m', memory: '256Mi' },
      limits: { memory: '256Mi' },
    });
    expect(c.resyncSeconds).toBe(300);
    expect(c.http).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(c.leaderElection).toBe(true);
    expect(c.leaseName).toBe('snapkeeper-leader');
    expect(c.podName).toBe('op-1');
    expect(c.missedBackupGraceSeconds).toBe(3600);
    expect(c.cleanupRunningBackups).toBe('finish');
    expect(c.s3CredentialsSecret).toBeUndefined();
    expect(c.images.postgresql).toMatch(/dumper-postgresql:/);
  });

  it.each([
    ['POD_NAMESPACE only', { POD_NAMESPACE: 'ops' }, 'ops'],
    ['both set', { POD_NAMESPACE: 'ops', SNAPKEEPER_CONTROL_NAMESPACE: 'backup' }, 'backup'],
    ['empty control namespace', { POD_NAMESPACE: 'ops', SNAPKEEPER_CONTROL_NAMESPACE: ' ' }, 'ops'],
  ])('given %s, when loaded, then the control namespace is %s', (_name, env, expected) => {
    expect(loadOperatorConfig({ ...minimal, ...env }).controlNamespace).toBe(expected);
  });

  it('given every variable set, when loaded, then each lands in its field', () => {
    const c = loadOperatorConfig({
      SNAPKEEPER_WATCH_NAMESPACES: 'shop, blog ,shop',
      SNAPKEEPER_STORAGE: 's3://backups',
      SNAPKEEPER_IMAGE_MYSQL: 'registry.local/mysql-dumper:1',
      SNAPKEEPER_IMAGE_PULL_POLICY: 'Always',
      SNAPKEEPER_S3_ENDPOINT: 'http://minio.minio.svc:9000',
      SNAPKEEPER_S3_REGION: 'eu-west-1',
      SNAPKEEPER_S3_FORCE_PATH_STYLE: 'true',
      SNAPKEEPER_S3_CREDENTIALS_SECRET: 's3-creds',
      SNAPKEEPER_DEFAULT_RETENTION: 'keep-last=7,keep-daily=14',
      SNAPKEEPER_DEFAULT_COMPRESSION: 'zstd:5',
      SNAPKEEPER_DEFAULT_RECIPIENTS: `${recipient}`,
      SNAPKEEPER_DEFAULT_ENCRYPTION: 'true',
      SNAPKEEPER_DEFAULT_RESOURCES: 'cpu=1,memory=1Gi,limits.cpu=2',
      SNAPKEEPER_RESYNC_SECONDS: '60',
      SNAPKEEPER_HTTP_ADDRESS: '[::]:9090',
      SNAPKEEPER_LEADER_ELECTION: 'false',
      SNAPKEEPER_JOB_ACTIVE_DEADLINE_SECONDS: '600',
      SNAPKEEPER_CLEANUP_RUNNING_BACKUPS: 'stop',
    });
    expect(c.watchNamespaces).toEqual(['shop', 'blog']);
    expect(c.images.mysql).toBe('registry.local/mysql-dumper:1');
    expect(c.imagePullPolicy).toBe('Always');
    expect(c.s3Endpoint).toBe('http://minio.minio.svc:9000');
    expect(c.s3Region).toBe('eu-west-1');
    expect(c.s3ForcePathStyle).toBe(true);
    expect(c.s3CredentialsSecret).toBe('s3-creds');
    expect(c.defaultRetention).toBe('keep-last=7,keep-daily=14');
    expect(c.defaultCompression).toEqual({ type: 'zstd', level: 5 });
    expect(c.defaultRecipients).toEqual([recipient]);
    expect(c.defaultEncryption).toBe(true);
    expect(c.defaultResources).toEqual({
      requests: { cpu: '1', memory: '1Gi' },
      limits: { memory: '1Gi', cpu: '2' },
    });
    expect(c.resyncSeconds).toBe(60);
    expect(c.http).toEqual({ host: '::', port: 9090 });
    expect(c.leaderElection).toBe(false);
    expect(c.job.activeDeadlineSeconds).toBe(600);
    expect(c.cleanupRunningBackups).toBe('stop');
  });

  it.each([
    [
      'no watched namespace',
      { SNAPKEEPER_WATCH_NAMESPACES: undefined },
      'SNAPKEEPER_WATCH_NAMESPACES: ',
    ],
    [
      'an empty watch list',
      { SNAPKEEPER_WATCH_NAMESPACES: ' , ' },
      'SNAPKEEPER_WATCH_NAMESPACES: ',
    ],
    ['a bad namespace', { SNAPKEEPER_WATCH_NAMESPACES: 'Shop_1' }, 'SNAPKEEPER_WATCH_NAMESPACES: '],
    ['no storage', { SNAPKEEPER_STORAGE: undefined }, 'SNAPKEEPER_STORAGE: '],
    ['a directory as storage', { SNAPKEEPER_STORAGE: '/var/backups' }, 'SNAPKEEPER_STORAGE: '],
    [
      'a bad pull policy',
      { SNAPKEEPER_IMAGE_PULL_POLICY: 'always' },
      'SNAPKEEPER_IMAGE_PULL_POLICY: ',
    ],
    ['a bad endpoint', { SNAPKEEPER_S3_ENDPOINT: 'minio:9000 x' }, 'SNAPKEEPER_S3_ENDPOINT: '],
    [
      'a bad boolean',
      { SNAPKEEPER_S3_FORCE_PATH_STYLE: 'yes' },
      'SNAPKEEPER_S3_FORCE_PATH_STYLE: ',
    ],
    [
      'a template without timestamp',
      { SNAPKEEPER_KEY_TEMPLATE: '{namespace}/x' },
      'SNAPKEEPER_KEY_TEMPLATE: ',
    ],
    [
      'a bad retention',
      { SNAPKEEPER_DEFAULT_RETENTION: 'keep=3' },
      'SNAPKEEPER_DEFAULT_RETENTION: ',
    ],
    [
      'a bad compression',
      { SNAPKEEPER_DEFAULT_COMPRESSION: 'zstd:0' },
      'SNAPKEEPER_DEFAULT_COMPRESSION: zstd levels are 1 to 19; accepted: ',
    ],
    [
      'a bad recipient',
      { SNAPKEEPER_DEFAULT_RECIPIENTS: 'age1nope' },
      'SNAPKEEPER_DEFAULT_RECIPIENTS: ',
    ],
    [
      'encryption without recipients',
      { SNAPKEEPER_DEFAULT_ENCRYPTION: 'true' },
      'SNAPKEEPER_DEFAULT_ENCRYPTION: ',
    ],
    [
      'bad resources',
      { SNAPKEEPER_DEFAULT_RESOURCES: 'cpu=lots' },
      'SNAPKEEPER_DEFAULT_RESOURCES: ',
    ],
    ['a non-numeric resync', { SNAPKEEPER_RESYNC_SECONDS: '5m' }, 'SNAPKEEPER_RESYNC_SECONDS: '],
    ['a too short resync', { SNAPKEEPER_RESYNC_SECONDS: '1' }, 'SNAPKEEPER_RESYNC_SECONDS: '],
    [
      'an address without port',
      { SNAPKEEPER_HTTP_ADDRESS: 'localhost' },
      'SNAPKEEPER_HTTP_ADDRESS: ',
    ],
    ['a port out of range', { SNAPKEEPER_HTTP_ADDRESS: ':70000' }, 'SNAPKEEPER_HTTP_ADDRESS: '],
    [
      'an unknown cleanup policy',
      { SNAPKEEPER_CLEANUP_RUNNING_BACKUPS: 'wait' },
      'SNAPKEEPER_CLEANUP_RUNNING_BACKUPS: ',
    ],
  ])('given %s, when loaded, then one problem names the variable', (_name, env, prefix) => {
    const found = problems({ ...minimal, ...env });
    expect(found).toHaveLength(1);
    expect(found[0]!.startsWith(prefix)).toBe(true);
  });

  it('given several mistakes, when loaded, then every one is reported at once', () => {
    const found = problems({
      SNAPKEEPER_RESYNC_SECONDS: 'x',
      SNAPKEEPER_LEADER_ELECTION: 'maybe',
    });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual([
      'SNAPKEEPER_LEADER_ELECTION',
      'SNAPKEEPER_RESYNC_SECONDS',
      'SNAPKEEPER_STORAGE',
      'SNAPKEEPER_WATCH_NAMESPACES',
    ]);
  });
});

describe('loadOperatorConfig: the scheduled restore test', () => {
  it('given nothing set, then the defaults: 500m / 1Gi / 4Gi, three hours, no identity', () => {
    expect(loadOperatorConfig(minimal).restoreTest).toEqual({
      resources: {
        requests: { cpu: '500m', memory: '1Gi', 'ephemeral-storage': '4Gi' },
        limits: { memory: '1Gi' },
      },
      activeDeadlineSeconds: 10_800,
    });
  });

  it('given every restore-test variable, then each lands in its field', () => {
    const c = loadOperatorConfig({
      ...minimal,
      SNAPKEEPER_RESTORE_TEST_RESOURCES: 'memory=4Gi,limits.ephemeral-storage=50Gi',
      SNAPKEEPER_RESTORE_TEST_ACTIVE_DEADLINE_SECONDS: '600',
      SNAPKEEPER_RESTORE_TEST_IDENTITY_SECRET: 'restore-identity',
      SNAPKEEPER_RESTORE_TEST_IDENTITY_KEY: 'key.txt',
    });
    expect(c.restoreTest).toEqual({
      resources: {
        requests: { memory: '4Gi' },
        limits: { memory: '4Gi', 'ephemeral-storage': '50Gi' },
      },
      activeDeadlineSeconds: 600,
      identitySecret: { name: 'restore-identity', key: 'key.txt' },
    });
  });

  it('given an identity Secret without a key, then the key is "identity"', () => {
    expect(
      loadOperatorConfig({ ...minimal, SNAPKEEPER_RESTORE_TEST_IDENTITY_SECRET: 'id' }).restoreTest
        .identitySecret,
    ).toEqual({ name: 'id', key: 'identity' });
  });

  it.each([
    ['SNAPKEEPER_RESTORE_TEST_RESOURCES', { SNAPKEEPER_RESTORE_TEST_RESOURCES: 'disk=1Gi' }],
    [
      'SNAPKEEPER_RESTORE_TEST_ACTIVE_DEADLINE_SECONDS',
      { SNAPKEEPER_RESTORE_TEST_ACTIVE_DEADLINE_SECONDS: '10' },
    ],
    [
      'SNAPKEEPER_RESTORE_TEST_IDENTITY_SECRET',
      { SNAPKEEPER_RESTORE_TEST_IDENTITY_SECRET: 'Not A Name' },
    ],
    [
      'SNAPKEEPER_RESTORE_TEST_IDENTITY_KEY',
      {
        SNAPKEEPER_RESTORE_TEST_IDENTITY_SECRET: 'id',
        SNAPKEEPER_RESTORE_TEST_IDENTITY_KEY: 'a/b',
      },
    ],
    ['SNAPKEEPER_RESTORE_TEST_IDENTITY_KEY', { SNAPKEEPER_RESTORE_TEST_IDENTITY_KEY: 'key.txt' }],
  ])('given a bad %s, then one problem names it', (variable, env) => {
    const found = problems({ ...minimal, ...env });
    expect(found).toHaveLength(1);
    expect(found[0]!.startsWith(`${variable}: `)).toBe(true);
  });
});
