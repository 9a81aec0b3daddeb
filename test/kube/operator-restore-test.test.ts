// The scheduled restore test, operator side, against the real kube-apiserver:
// `snapkeeper.io/restore-test` gives the workload a second CronJob of the
// contract's shape beside its backup CronJob; an invalid value keeps the last
// good one; a resync writes nothing; removing the annotation removes only the
// restore-test CronJob; the workload going removes both; encrypted backups
// without an identity get RestoreTestNoIdentity and no restore test; nothing
// secret is in any spec.
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1CronJob,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeConfig } from '../env/helpers.js';
import { objectName } from '../../src/desired/names.js';
import { restoreTestObjectName } from '../../src/desired/restore-test.js';
import { eventually, newNamespace, podEvents } from './fixtures.js';
import { resynced, settled, startTestOperator, type TestOperator } from './operator-fixtures.js';
import {
  PASSWORD,
  createDeploymentChain,
  createSupport,
  pgAnnotations,
  setPodAnnotations,
} from './workloads.js';

const kube = inject('kube');
const S = 'snapkeeper.io/';
const RECIPIENT = 'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p';
/** Shaped like an age identity; only ever stored in the identity Secret. */
const IDENTITY = 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQZZ9';
const CHECKS =
  "select count(*) > 0 from orders\n\nselect max(created_at) > now() - interval '2 days' from orders";
const rtAnnotations = (extra: Record<string, string> = {}) =>
  pgAnnotations({
    [`${S}restore-test`]: '15 6 * * 0',
    [`${S}restore-test-checks`]: CHECKS,
    ...extra,
  });

describe('operator: the restore-test CronJob', () => {
  let kc: KubeConfig;
  let batch: BatchV1Api;
  let core: CoreV1Api;
  let watched: string;
  let control: string;
  let op: TestOperator;

  const ref = (app: string) => ({ namespace: watched, kind: 'Deployment' as const, name: app });
  const read = (name: string) =>
    batch.readNamespacedCronJob({ namespace: control, name }).catch(() => undefined);
  const backupOf = (app: string) => read(objectName(ref(app)));
  const restoreTestOf = (app: string) => read(restoreTestObjectName(ref(app)));
  const podOf = async (app: string) =>
    (await core.listNamespacedPod({ namespace: watched, labelSelector: `app=${app}` })).items[0]!;
  const gone = (what: string, get: () => Promise<V1CronJob | undefined>) =>
    eventually(what, async () => ((await get()) ? undefined : true));

  beforeAll(async () => {
    kc = kubeConfig(kube);
    batch = kc.makeApiClient(BatchV1Api);
    core = kc.makeApiClient(CoreV1Api);
    watched = await newNamespace(kube, 'rt');
    control = await newNamespace(kube, 'snapkeeper');
    op = await startTestOperator(kube, {
      SNAPKEEPER_CONTROL_NAMESPACE: control,
      SNAPKEEPER_WATCH_NAMESPACES: watched,
      SNAPKEEPER_S3_ENDPOINT: 'http://s3.storage.svc:7070',
      SNAPKEEPER_S3_CREDENTIALS_SECRET: 's3-creds',
      SNAPKEEPER_RESTORE_TEST_RESOURCES: 'cpu=250m,memory=768Mi,ephemeral-storage=3Gi',
      SNAPKEEPER_RESTORE_TEST_ACTIVE_DEADLINE_SECONDS: '5400',
      POD_NAME: 'snapkeeper-rt-0',
    });
  });

  afterAll(async () => {
    await op?.running.stop();
  });

  it('given a workload annotated with restore-test and checks, then a restore-test CronJob of the contract shape appears beside the backup CronJob', async () => {
    await createSupport(kc, watched, 'pg');
    const w = await createDeploymentChain(kc, watched, 'pg', rtAnnotations());
    const backup = await eventually('backup CronJob', () => backupOf('pg'));
    const rt = await eventually('restore-test CronJob', () => restoreTestOf('pg'));

    expect(rt.metadata!.name).not.toBe(backup.metadata!.name);
    expect(rt.metadata!.name!.length).toBeLessThanOrEqual(52);
    const kindLabel = { 'snapkeeper.io/job-kind': 'restore-test' };
    expect(rt.metadata!.labels).toEqual({ ...backup.metadata!.labels, ...kindLabel });
    expect(rt.spec!.jobTemplate.metadata!.labels).toMatchObject(kindLabel);
    expect(rt.spec!.jobTemplate.spec!.template.metadata!.labels).toMatchObject(kindLabel);
    expect(backup.metadata!.labels!['snapkeeper.io/job-kind']).toBeUndefined();
    expect(rt.metadata!.annotations).toMatchObject({
      'snapkeeper.io/workload': `${watched}/Deployment/pg`,
      'snapkeeper.io/source-pod': `${watched}/${w.pods[0]!.metadata!.name}`,
    });

    expect(rt.spec).toMatchObject({
      schedule: '15 6 * * 0',
      timeZone: 'Europe/Paris',
      concurrencyPolicy: 'Forbid',
      suspend: false,
      startingDeadlineSeconds: backup.spec!.startingDeadlineSeconds,
      successfulJobsHistoryLimit: backup.spec!.successfulJobsHistoryLimit,
      failedJobsHistoryLimit: backup.spec!.failedJobsHistoryLimit,
    });
    const job = rt.spec!.jobTemplate.spec!;
    expect(job.backoffLimit).toBe(0);
    expect(job.activeDeadlineSeconds).toBe(5400);
    expect(job.ttlSecondsAfterFinished).toBe(
      backup.spec!.jobTemplate.spec!.ttlSecondsAfterFinished,
    );

    const pod = job.template.spec!;
    const bpod = backup.spec!.jobTemplate.spec!.template.spec!;
    expect(pod.restartPolicy).toBe('Never');
    expect(pod.serviceAccountName).toBe(bpod.serviceAccountName);
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.securityContext).toEqual(bpod.securityContext);
    expect(pod.containers).toHaveLength(1);
    const c = pod.containers[0]!;
    expect(c.name).toBe('restore-test');
    expect(c.image).toBe(bpod.containers[0]!.image);
    expect(c.securityContext).toEqual(bpod.containers[0]!.securityContext);
    expect(c.terminationMessagePath).toBe('/dev/termination-log');
    expect(c.terminationMessagePolicy).toBe('File');
    expect(c.args).toEqual([
      'restore-test',
      '--workload',
      `${watched}/pg`,
      '--output',
      'json',
      '--check',
      'select count(*) > 0 from orders',
      '--check',
      "select max(created_at) > now() - interval '2 days' from orders",
    ]);
    expect(c.resources).toEqual({
      requests: { cpu: '250m', memory: '768Mi', 'ephemeral-storage': '3Gi' },
      limits: { memory: '768Mi' },
    });
    const storageNames = new Set([
      'SNAPKEEPER_STORAGE',
      'SNAPKEEPER_KEY_TEMPLATE',
      'SNAPKEEPER_WORKLOAD_NAMESPACE',
      'SNAPKEEPER_WORKLOAD_KIND',
      'SNAPKEEPER_WORKLOAD_NAME',
      'AWS_ENDPOINT_URL_S3',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
    ]);
    expect(c.env).toEqual([
      ...bpod.containers[0]!.env!.filter((e) => storageNames.has(e.name)),
      { name: 'SNAPKEEPER_TERMINATION_MESSAGE_PATH', value: '/dev/termination-log' },
      { name: 'HOME', value: '/tmp' },
      { name: 'TMPDIR', value: '/tmp' },
    ]);
    expect(c.env!.find((e) => e.name === 'AWS_SECRET_ACCESS_KEY')!.valueFrom).toEqual({
      secretKeyRef: { name: 's3-creds', key: 'AWS_SECRET_ACCESS_KEY' },
    });
    expect(c.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'dshm', mountPath: '/dev/shm' },
    ]);
    expect(pod.volumes).toEqual([
      { name: 'tmp', emptyDir: { sizeLimit: '3Gi' } },
      { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: '256Mi' } },
    ]);

    const ev = await eventually('RestoreTestScheduled event', async () =>
      (await podEvents(kc, watched, w.pods[0]!.metadata!.name!)).find(
        (e) => e.reason === 'RestoreTestScheduled',
      ),
    );
    expect(ev.type).toBe('Normal');
    expect(ev.message).toContain('"15 6 * * 0" Europe/Paris with 2 checks');
    expect(ev.message).toContain(`${control}/${rt.metadata!.name}`);
  });

  it('given nothing changes, when several resyncs pass, then zero write requests', async () => {
    await eventually('restore-test CronJob', () => restoreTestOf('pg'));
    await settled(op);
    const since = Date.now();
    expect(await resynced(op, 3)).toBeGreaterThanOrEqual(3);
    expect(op.writes(since)).toEqual([]);
  });

  it('given a good restore-test CronJob, when restore-test becomes invalid, then a Warning names annotation, value and what is accepted, and both CronJobs are untouched', async () => {
    const rtBefore = await eventually('restore-test CronJob', () => restoreTestOf('pg'));
    const backupBefore = await eventually('backup CronJob', () => backupOf('pg'));
    const pod = await podOf('pg');
    await setPodAnnotations(
      kc,
      watched,
      pod.metadata!.name!,
      rtAnnotations({ [`${S}restore-test`]: '61 6 * * *' }),
    );
    const ev = await eventually('InvalidAnnotation event', async () =>
      (await podEvents(kc, watched, pod.metadata!.name!)).find(
        (e) => e.reason === 'InvalidAnnotation' && e.message?.includes(`${S}restore-test:`),
      ),
    );
    expect(ev.type).toBe('Warning');
    expect(ev.message).toContain('"61 6 * * *" is not a schedule');
    expect(ev.message).toContain('accepted: 5-field cron');
    // The operator has seen the change (its Warning is out): two resyncs of it.
    expect(await resynced(op, 2)).toBeGreaterThanOrEqual(2);
    expect((await restoreTestOf('pg'))?.metadata?.resourceVersion).toBe(
      rtBefore.metadata!.resourceVersion,
    );
    expect((await backupOf('pg'))?.metadata?.resourceVersion).toBe(
      backupBefore.metadata!.resourceVersion,
    );
  });

  it('given a restore test, when its checks change, then only the restore-test CronJob is rewritten', async () => {
    const backupBefore = await eventually('backup CronJob', () => backupOf('pg'));
    const pod = await podOf('pg');
    await setPodAnnotations(
      kc,
      watched,
      pod.metadata!.name!,
      rtAnnotations({ [`${S}restore-test-checks`]: 'select true' }),
    );
    const rt = await eventually('updated restore-test CronJob', async () => {
      const c = await restoreTestOf('pg');
      return c?.spec?.jobTemplate.spec?.template.spec?.containers[0]?.args?.includes('select true')
        ? c
        : undefined;
    });
    expect(rt.spec!.jobTemplate.spec!.template.spec!.containers[0]!.args!.slice(5)).toEqual([
      '--check',
      'select true',
    ]);
    expect((await backupOf('pg'))?.metadata?.resourceVersion).toBe(
      backupBefore.metadata!.resourceVersion,
    );
  });

  it('given a restore test, when the restore-test annotation is removed, then only the restore-test CronJob goes', async () => {
    const backupBefore = await eventually('backup CronJob', () => backupOf('pg'));
    const pod = await podOf('pg');
    await setPodAnnotations(kc, watched, pod.metadata!.name!, pgAnnotations());
    await gone('restore-test CronJob deleted', () => restoreTestOf('pg'));
    await settled(op);
    const backup = await backupOf('pg');
    expect(backup?.metadata?.resourceVersion).toBe(backupBefore.metadata!.resourceVersion);
  });

  it('given a workload with both CronJobs, when the workload is deleted, then both go', async () => {
    await createSupport(kc, watched, 'gone');
    const w = await createDeploymentChain(kc, watched, 'gone', rtAnnotations());
    await eventually('restore-test CronJob', () => restoreTestOf('gone'));
    for (const p of w.pods) {
      await core.deleteNamespacedPod({
        namespace: watched,
        name: p.metadata!.name!,
        gracePeriodSeconds: 0,
      });
    }
    await kc
      .makeApiClient(AppsV1Api)
      .deleteNamespacedDeployment({ namespace: watched, name: w.deployment });
    await gone('backup CronJob deleted', () => backupOf('gone'));
    await gone('restore-test CronJob deleted', () => restoreTestOf('gone'));
  });

  it('given encrypted backups and no identity configured, then RestoreTestNoIdentity names the chart value, no restore-test CronJob, the backup CronJob is made', async () => {
    await createSupport(kc, watched, 'enc');
    const w = await createDeploymentChain(
      kc,
      watched,
      'enc',
      rtAnnotations({ [`${S}encryption-recipients`]: RECIPIENT }),
    );
    const backup = await eventually('backup CronJob', () => backupOf('enc'));
    expect(backup.metadata!.name).toBe(objectName(ref('enc')));
    const ev = await eventually('RestoreTestNoIdentity event', async () =>
      (await podEvents(kc, watched, w.pods[0]!.metadata!.name!)).find(
        (e) => e.reason === 'RestoreTestNoIdentity',
      ),
    );
    expect(ev.type).toBe('Warning');
    expect(ev.message).toContain('restoreTest.identitySecret');
    expect(await resynced(op, 2)).toBeGreaterThanOrEqual(2);
    expect(await restoreTestOf('enc')).toBeUndefined();
    const again = (await podEvents(kc, watched, w.pods[0]!.metadata!.name!)).filter(
      (e) => e.reason === 'RestoreTestNoIdentity',
    );
    expect(again).toHaveLength(1);
  });
});

describe('operator: the restore-test CronJob with an identity Secret', () => {
  let kc: KubeConfig;
  let watched: string;
  let control: string;
  let op: TestOperator;

  beforeAll(async () => {
    kc = kubeConfig(kube);
    watched = await newNamespace(kube, 'rtid');
    control = await newNamespace(kube, 'snapkeeper');
    await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace: control,
      body: { metadata: { name: 'restore-identity' }, stringData: { 'key.txt': IDENTITY } },
    });
    op = await startTestOperator(kube, {
      SNAPKEEPER_CONTROL_NAMESPACE: control,
      SNAPKEEPER_WATCH_NAMESPACES: watched,
      SNAPKEEPER_RESTORE_TEST_IDENTITY_SECRET: 'restore-identity',
      SNAPKEEPER_RESTORE_TEST_IDENTITY_KEY: 'key.txt',
      POD_NAME: 'snapkeeper-rtid-0',
    });
  });

  afterAll(async () => {
    await op?.running.stop();
  });

  it('given encrypted backups and an identity Secret, then the restore-test CronJob mounts it and names its file, and no secret value is in any CronJob, Event or log line', async () => {
    await createSupport(kc, watched, 'enc');
    await createDeploymentChain(
      kc,
      watched,
      'enc',
      rtAnnotations({ [`${S}encryption-recipients`]: RECIPIENT }),
    );
    const batch = kc.makeApiClient(BatchV1Api);
    const rt = await eventually('restore-test CronJob', () =>
      batch
        .readNamespacedCronJob({
          namespace: control,
          name: restoreTestObjectName({ namespace: watched, kind: 'Deployment', name: 'enc' }),
        })
        .catch(() => undefined),
    );
    const pod = rt.spec!.jobTemplate.spec!.template.spec!;
    expect(pod.containers[0]!.args!.slice(-2)).toEqual([
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
    expect(pod.containers[0]!.volumeMounts).toContainEqual({
      name: 'identity',
      mountPath: '/var/run/snapkeeper/identity',
      readOnly: true,
    });

    const all = JSON.stringify(await batch.listNamespacedCronJob({ namespace: control }));
    const events = JSON.stringify(
      await kc.makeApiClient(CoreV1Api).listNamespacedEvent({ namespace: watched }),
    );
    const logs = op.logs.join('\n');
    for (const secret of [IDENTITY, PASSWORD]) {
      for (const text of [all, events, logs]) {
        expect(text).not.toContain(secret);
        expect(text).not.toContain(Buffer.from(secret).toString('base64'));
      }
    }
  });
});
