// The operator against the real kube-apiserver: annotated Deployment pods
// become a CronJob + Secret in the control namespace, changes follow,
// problems become Warning Events, nothing is written when nothing changes,
// and the password never leaves the Secrets.
import { AppsV1Api, BatchV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeConfig } from '../env/helpers.js';
import { objectName } from '../../src/desired/names.js';
import { eventually, newNamespace, podEvents } from './fixtures.js';
import {
  reconcileCount,
  reconciled,
  resynced,
  settled,
  startTestOperator,
  type TestOperator,
} from './operator-fixtures.js';
import {
  PASSWORD,
  createDeploymentChain,
  createService,
  createSupport,
  pgAnnotations,
  setPodAnnotations,
} from './workloads.js';

const kube = inject('kube');

describe('operator reconcile', () => {
  let kc: KubeConfig;
  let watched: string;
  let control: string;
  let op: TestOperator;
  let batch: BatchV1Api;
  let core: CoreV1Api;

  const nameOf = (app: string) => objectName({ namespace: watched, kind: 'Deployment', name: app });
  const cronJob = (app: string) =>
    batch.readNamespacedCronJob({ namespace: control, name: nameOf(app) }).catch(() => undefined);
  const secret = (app: string) =>
    core.readNamespacedSecret({ namespace: control, name: nameOf(app) }).catch(() => undefined);

  beforeAll(async () => {
    kc = kubeConfig(kube);
    batch = kc.makeApiClient(BatchV1Api);
    core = kc.makeApiClient(CoreV1Api);
    watched = await newNamespace(kube, 'shop');
    control = await newNamespace(kube, 'snapkeeper');
    op = await startTestOperator(kube, {
      SNAPKEEPER_CONTROL_NAMESPACE: control,
      SNAPKEEPER_WATCH_NAMESPACES: watched,
      POD_NAME: 'snapkeeper-test-0',
    });
  });

  afterAll(async () => {
    await op?.running.stop();
  });

  it('given an annotated Deployment with a Service and a credentials Secret, when its pod is created, then a CronJob and Secret appear within 2 seconds', async () => {
    await createSupport(kc, watched, 'pg');
    const w = await createDeploymentChain(kc, watched, 'pg', pgAnnotations());
    const created = new Date(w.pods[0]!.metadata!.creationTimestamp!).getTime();
    const cj = await eventually('CronJob', () => cronJob('pg'), 5000);
    const appearedAfterMs = new Date(cj.metadata!.creationTimestamp!).getTime() - created;
    // creationTimestamps have second precision: allow for the rounding.
    expect(appearedAfterMs).toBeLessThanOrEqual(2000);

    expect(cj.spec!.schedule).toBe('0 3 * * *');
    expect(cj.spec!.timeZone).toBe('Europe/Paris');
    expect(cj.spec!.concurrencyPolicy).toBe('Forbid');
    const pod = cj.spec!.jobTemplate.spec!.template.spec!;
    expect(pod.automountServiceAccountToken).toBe(false);
    const c = pod.containers[0]!;
    expect(c.image).toBe(op.config.images.postgresql);
    expect(c.securityContext?.readOnlyRootFilesystem).toBe(true);
    expect(c.securityContext?.capabilities?.drop).toContain('ALL');
    expect(pod.securityContext?.runAsNonRoot ?? c.securityContext?.runAsNonRoot).toBe(true);
    const env = new Map(c.env!.map((e) => [e.name, e]));
    expect(env.get('SNAPKEEPER_HOST')?.value).toBe(`pg.${watched}.svc`);
    expect(env.get('SNAPKEEPER_PORT')?.value).toBe('5432');
    expect(env.get('SNAPKEEPER_PASSWORD')?.valueFrom?.secretKeyRef).toMatchObject({
      name: nameOf('pg'),
      key: 'password',
    });
    expect(cj.metadata!.labels!['app.kubernetes.io/managed-by']).toBe('snapkeeper');

    const s = await eventually('Secret', () => secret('pg'));
    expect(Buffer.from(s.data!.password!, 'base64').toString()).toBe(PASSWORD);
    expect(Buffer.from(s.data!.username!, 'base64').toString()).toBe('app');

    const events = await eventually('BackupScheduled event', async () => {
      const evs = await podEvents(kc, watched, w.pods[0]!.metadata!.name!);
      return evs.some((e) => e.reason === 'BackupScheduled') ? evs : undefined;
    });
    const ev = events.find((e) => e.reason === 'BackupScheduled')!;
    expect(ev.type).toBe('Normal');
    expect(ev.reportingComponent).toBe('snapkeeper');
    expect(ev.involvedObject.uid).toBe(w.pods[0]!.metadata!.uid);
  });

  it('given nothing changes, when several resync periods pass, then the operator makes zero write requests', async () => {
    await eventually('CronJob', () => cronJob('pg'));
    await settled(op); // the first reconcile's echoes
    const since = Date.now();
    const reconcilesBefore = await reconcileCount(op);
    // Three reconciles driven by the resync timer itself (1 s here), not by the test.
    await reconciled(op, 3);
    const reconcilesAfter = await reconcileCount(op);
    expect(reconcilesAfter - reconcilesBefore).toBeGreaterThanOrEqual(3); // resyncs did run
    expect(op.writes(since)).toEqual([]);
  });

  it('given a tracked workload, when its schedule annotation changes, then the CronJob is updated', async () => {
    const pod = (await core.listNamespacedPod({ namespace: watched, labelSelector: 'app=pg' }))
      .items[0]!;
    await setPodAnnotations(
      kc,
      watched,
      pod.metadata!.name!,
      pgAnnotations({ 'snapkeeper.io/schedule': '30 4 * * *' }),
    );
    const cj = await eventually('updated CronJob', async () => {
      const c = await cronJob('pg');
      return c?.spec?.schedule === '30 4 * * *' ? c : undefined;
    });
    expect(cj.spec!.timeZone).toBe('Europe/Paris');
  });

  it('given a good CronJob, when an annotation becomes invalid, then the CronJob is untouched and a Warning names the annotation and what is accepted', async () => {
    const before = await eventually('CronJob', () => cronJob('pg'));
    const pod = (await core.listNamespacedPod({ namespace: watched, labelSelector: 'app=pg' }))
      .items[0]!;
    await setPodAnnotations(
      kc,
      watched,
      pod.metadata!.name!,
      pgAnnotations({ 'snapkeeper.io/type': 'oracle' }),
    );
    const ev = await eventually('InvalidAnnotation event', async () =>
      (await podEvents(kc, watched, pod.metadata!.name!)).find(
        (e) => e.reason === 'InvalidAnnotation',
      ),
    );
    expect(ev.type).toBe('Warning');
    expect(ev.message).toContain('snapkeeper.io/type');
    expect(ev.message).toContain('oracle');
    expect(ev.message).toMatch(/postgresql/);
    // The operator has seen the change (its Warning is out): two resyncs of it.
    expect(await resynced(op, 2)).toBeGreaterThanOrEqual(2);
    const after = await cronJob('pg');
    expect(after?.metadata?.resourceVersion).toBe(before.metadata!.resourceVersion);
    // One Event per problem, not one per resync.
    const again = (await podEvents(kc, watched, pod.metadata!.name!)).filter(
      (e) => e.reason === 'InvalidAnnotation',
    );
    expect(again).toHaveLength(1);
    expect(again[0]!.count ?? 1).toBe(1);
  });

  it('given a tracked workload, when the enabled annotation is removed, then its CronJob and Secret are deleted', async () => {
    const pod = (await core.listNamespacedPod({ namespace: watched, labelSelector: 'app=pg' }))
      .items[0]!;
    await setPodAnnotations(kc, watched, pod.metadata!.name!, {});
    await eventually('CronJob deleted', async () => ((await cronJob('pg')) ? undefined : true));
    await eventually('Secret deleted', async () => ((await secret('pg')) ? undefined : true));
  });

  it('given a tracked workload, when the workload is deleted, then its CronJob and Secret are deleted', async () => {
    await createSupport(kc, watched, 'gone');
    const w = await createDeploymentChain(kc, watched, 'gone', pgAnnotations(), 2);
    await eventually('CronJob', () => cronJob('gone'));
    expect(await secret('gone')).toBeDefined();
    for (const p of w.pods) {
      await core.deleteNamespacedPod({
        namespace: watched,
        name: p.metadata!.name!,
        gracePeriodSeconds: 0,
      });
    }
    // The Deployment goes too: its pods going alone would be a restart, not a deletion.
    await kc
      .makeApiClient(AppsV1Api)
      .deleteNamespacedDeployment({ namespace: watched, name: w.deployment });
    await eventually('CronJob deleted', async () => ((await cronJob('gone')) ? undefined : true));
    await eventually('Secret deleted', async () => ((await secret('gone')) ? undefined : true));
  });

  it('given no Service, two Services, or missing credentials, then each gets its Warning and no CronJob', async () => {
    await createSupport(kc, watched, 'nosvc', { service: false });
    await createSupport(kc, watched, 'twosvc');
    await createService(kc, watched, 'twosvc-other', 'twosvc');
    await createSupport(kc, watched, 'nocreds', { secret: false });
    const cases = [
      ['nosvc', 'NoService'],
      ['twosvc', 'AmbiguousService'],
      ['nocreds', 'MissingCredentials'],
    ] as const;
    const workloads = await Promise.all(
      cases.map(([app]) => createDeploymentChain(kc, watched, app, pgAnnotations())),
    );
    for (const [i, [app, reason]] of cases.entries()) {
      const podName = workloads[i]!.pods[0]!.metadata!.name!;
      const ev = await eventually(`${reason} event`, async () =>
        (await podEvents(kc, watched, podName)).find((e) => e.reason === reason),
      );
      expect(ev.type).toBe('Warning');
      expect(await cronJob(app)).toBeUndefined();
      expect(await secret(app)).toBeUndefined();
    }
  });

  it('given everything above, then the password is in no CronJob, no Event and no log line', async () => {
    const cjs = await batch.listNamespacedCronJob({ namespace: control });
    expect(JSON.stringify(cjs)).not.toContain(PASSWORD);
    expect(JSON.stringify(cjs)).not.toContain(Buffer.from(PASSWORD).toString('base64'));
    const events = await core.listNamespacedEvent({ namespace: watched });
    expect(events.items.length).toBeGreaterThan(3);
    expect(JSON.stringify(events)).not.toContain(PASSWORD);
    expect(op.logs.length).toBeGreaterThan(10);
    const all = op.logs.join('\n');
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(Buffer.from(PASSWORD).toString('base64'));
  });
});
