// A workload without pods is not a workload gone, against the real
// kube-apiserver and kube-controller-manager (garbage collector, Job and
// ttl-after-finished controllers). A one-replica StatefulSet whose only pod
// restarts keeps its CronJob, Secret, Jobs (a running backup included) and
// status record, untouched; deleting the StatefulSet, or removing the
// annotation from its pod template, cleans up, and a backup running at that
// moment finishes: its Job outlives the CronJob, its Secret outlives the Job.
import { AppsV1Api, BatchV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeConfig } from '../env/helpers.js';
import { objectName } from '../../src/desired/names.js';
import { jobFromCronJob } from '../../src/cli/trigger-job.js';
import { STATUS_ANNOTATIONS as A } from '../../src/labels.js';
import { eventually, newNamespace, sleep } from './fixtures.js';
import { resynced, settled, startTestOperator, type TestOperator } from './operator-fixtures.js';
import {
  createStatefulPod,
  createStatefulSetChain,
  createSupport,
  pgAnnotations,
  type StatefulWorkload,
} from './workloads.js';
import { finishPod, jobFinished, jobPod, successMessage } from './status-fixtures.js';

const kube = inject('kube');

describe('operator: a workload is gone when its object is, not when its pods are', () => {
  let kc: KubeConfig;
  let watched: string;
  let control: string;
  let op: TestOperator | undefined;
  let batch: BatchV1Api;
  let core: CoreV1Api;
  let apps: AppsV1Api;

  const nameOf = (sts: string) =>
    objectName({ namespace: watched, kind: 'StatefulSet', name: sts });
  const cronJob = (sts: string) =>
    batch.readNamespacedCronJob({ namespace: control, name: nameOf(sts) }).catch(() => undefined);
  const secret = (sts: string) =>
    core.readNamespacedSecret({ namespace: control, name: nameOf(sts) }).catch(() => undefined);
  const job = (name: string) =>
    batch.readNamespacedJob({ namespace: control, name }).catch(() => undefined);
  const gone = async <T>(read: () => Promise<T | undefined>) =>
    (await read()) === undefined ? true : undefined;

  /** A backup Job of the workload's CronJob, as `snapkeeper trigger` makes it; its pod exists. */
  async function startBackup(sts: string) {
    const cj = await eventually('CronJob', () => cronJob(sts));
    // Manual Job names carry the second: never two in one second. A wait on
    // the clock, truly: nothing else tells when the next second has begun.
    await sleep(1100);
    const j = await batch.createNamespacedJob({
      namespace: control,
      body: jobFromCronJob(cj, new Date()),
    });
    return { job: j, pod: await jobPod(kc, j) };
  }

  async function deletePod(name: string) {
    await core.deleteNamespacedPod({ namespace: watched, name, gracePeriodSeconds: 0 });
    await eventually(`pod ${name} deleted`, () =>
      gone(() => core.readNamespacedPod({ namespace: watched, name }).catch(() => undefined)),
    );
  }

  /** The operator's pod cache has (or no longer has) this pod. */
  const podSeen = (name: string, present: boolean) =>
    eventually(`pod ${name} ${present ? 'in' : 'gone from'} the operator's cache`, () =>
      (op!.running.controller.caches.pods[0]!.get(watched, name) !== undefined) === present
        ? true
        : undefined,
    );

  beforeAll(async () => {
    kc = kubeConfig(kube);
    batch = kc.makeApiClient(BatchV1Api);
    core = kc.makeApiClient(CoreV1Api);
    apps = kc.makeApiClient(AppsV1Api);
    watched = await newNamespace(kube, 'gone');
    control = await newNamespace(kube, 'snapkeeper');
    op = await startTestOperator(kube, {
      SNAPKEEPER_CONTROL_NAMESPACE: control,
      SNAPKEEPER_WATCH_NAMESPACES: watched,
      POD_NAME: 'snapkeeper-gone-0',
    });
  });

  afterAll(async () => {
    await op?.running.stop();
  });

  let db: StatefulWorkload;
  let finishedJob: string;
  let running: Awaited<ReturnType<typeof startBackup>>;

  it('given a one-replica StatefulSet with a recorded backup and one running, when its only pod is deleted and comes back, then its CronJob, Secret, Jobs and status record are untouched and nothing is written', async () => {
    await createSupport(kc, watched, 'db');
    db = await createStatefulSetChain(kc, watched, 'db', pgAnnotations());
    await eventually('Secret', () => secret('db'));

    // One backup finished and recorded by the operator's status controller ...
    const first = await startBackup('db');
    await finishPod(kc, first.pod, 0, successMessage(`${watched}/db/20261120T030000Z`, 2048));
    await jobFinished(kc, control, first.job.metadata!.name!);
    finishedJob = first.job.metadata!.name!;
    await eventually('status record', async () => {
      const cj = await cronJob('db');
      return cj?.metadata?.annotations?.[A.lastSuccess] ? cj : undefined;
    });
    // ... and one running (its pod is there, not finished).
    running = await startBackup('db');

    await settled(op!); // the operator's own echoes
    const cjBefore = (await cronJob('db'))!;
    const secretBefore = (await secret('db'))!;
    const since = Date.now();

    // The pod restarts: for a while there is no pod at all.
    await deletePod(db.pod.metadata!.name!);
    await podSeen(db.pod.metadata!.name!, false);
    expect(await resynced(op!, 3)).toBeGreaterThanOrEqual(3); // three resyncs without a pod
    const cjWithout = await cronJob('db');
    const secretWithout = await secret('db');
    await createStatefulPod(kc, watched, db);
    await podSeen(db.pod.metadata!.name!, true);
    await eventually('the pod resolved to its workload again', () =>
      op!.running.controller.resolver.index.lookup(`${watched}/${db.pod.metadata!.name!}`)
        ? true
        : undefined,
    );
    expect(await resynced(op!, 2)).toBeGreaterThanOrEqual(2);

    for (const cj of [cjWithout, await cronJob('db')]) {
      expect(cj?.metadata?.uid).toBe(cjBefore.metadata!.uid);
      expect(cj?.metadata?.deletionTimestamp).toBeUndefined();
      expect(cj?.metadata?.annotations).toEqual(cjBefore.metadata!.annotations);
    }
    for (const s of [secretWithout, await secret('db')]) {
      expect(s?.metadata?.uid).toBe(secretBefore.metadata!.uid);
      expect(s?.metadata?.resourceVersion).toBe(secretBefore.metadata!.resourceVersion);
    }
    for (const j of [first.job, running.job]) {
      const now = await job(j.metadata!.name!);
      expect(now?.metadata?.uid).toBe(j.metadata!.uid);
      expect(now?.metadata?.deletionTimestamp).toBeUndefined();
    }
    const writes = op!.writes(since, ['cronjobs', 'secrets', 'jobs']);
    expect(writes, JSON.stringify(writes)).toEqual([]);
  });

  it('given that StatefulSet, when it is deleted, then its CronJob goes, the running backup Job finishes, and the Secret goes after it', async () => {
    await apps.deleteNamespacedStatefulSet({
      namespace: watched,
      name: db.statefulSet,
      propagationPolicy: 'Background',
    });
    await eventually('CronJob deleted', () => gone(() => cronJob('db')), 20_000);

    // The running Job outlived its CronJob, and was not stopped.
    const j = await job(running.job.metadata!.name!);
    expect(j?.metadata?.uid).toBe(running.job.metadata!.uid);
    expect(j?.metadata?.deletionTimestamp).toBeUndefined();
    expect(j?.metadata?.ownerReferences ?? []).toEqual([]);
    const pod = await core.readNamespacedPod({
      namespace: control,
      name: running.pod.metadata!.name!,
    });
    expect(pod.metadata?.deletionTimestamp).toBeUndefined();
    // Its pod reads the Secret (a retry would start a new pod): kept while it runs.
    expect(await resynced(op!, 2)).toBeGreaterThanOrEqual(2);
    expect(await secret('db')).toBeDefined();

    await finishPod(kc, running.pod, 0, successMessage(`${watched}/db/20261120T040000Z`, 4096));
    await jobFinished(kc, control, running.job.metadata!.name!);
    await eventually(
      'Secret deleted after the Job finished',
      () => gone(() => secret('db')),
      30_000,
    );
    // Finished Jobs are left to their ttlSecondsAfterFinished.
    expect((await job(finishedJob))?.metadata?.deletionTimestamp).toBeUndefined();
  });

  it('given a StatefulSet without pods, when the annotation is removed from its pod template, then its CronJob and Secret are deleted', async () => {
    await createSupport(kc, watched, 'db2');
    const w = await createStatefulSetChain(kc, watched, 'db2', pgAnnotations());
    await eventually('CronJob', () => cronJob('db2'));
    await eventually('Secret', () => secret('db2'));
    await deletePod(w.pod.metadata!.name!);
    await podSeen(w.pod.metadata!.name!, false);
    expect(await resynced(op!, 2)).toBeGreaterThanOrEqual(2);
    expect(await cronJob('db2')).toBeDefined();

    const sts = await apps.readNamespacedStatefulSet({ namespace: watched, name: 'db2' });
    sts.spec!.template.metadata!.annotations = {};
    await apps.replaceNamespacedStatefulSet({ namespace: watched, name: 'db2', body: sts });
    await eventually('CronJob deleted', () => gone(() => cronJob('db2')));
    await eventually('Secret deleted', () => gone(() => secret('db2')));
  });
});

describe('operator with SNAPKEEPER_CLEANUP_RUNNING_BACKUPS=stop', () => {
  let kc: KubeConfig;
  let watched: string;
  let control: string;
  let op: TestOperator | undefined;

  beforeAll(async () => {
    kc = kubeConfig(kube);
    watched = await newNamespace(kube, 'gone-stop');
    control = await newNamespace(kube, 'snapkeeper');
    op = await startTestOperator(kube, {
      SNAPKEEPER_CONTROL_NAMESPACE: control,
      SNAPKEEPER_WATCH_NAMESPACES: watched,
      SNAPKEEPER_CLEANUP_RUNNING_BACKUPS: 'stop',
      POD_NAME: 'snapkeeper-gone-stop-0',
    });
  });

  afterAll(async () => {
    await op?.running.stop();
  });

  it('given a StatefulSet with a running backup, when it is deleted, then the running Job is deleted with its CronJob and the Secret goes at once', async () => {
    const batch = kc.makeApiClient(BatchV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const name = objectName({ namespace: watched, kind: 'StatefulSet', name: 'db' });
    const read = {
      cronJob: () =>
        batch.readNamespacedCronJob({ namespace: control, name }).catch(() => undefined),
      secret: () => core.readNamespacedSecret({ namespace: control, name }).catch(() => undefined),
    };
    await createSupport(kc, watched, 'db');
    const db = await createStatefulSetChain(kc, watched, 'db', pgAnnotations());
    const cj = await eventually('CronJob', read.cronJob);
    await eventually('Secret', read.secret);
    const running = await batch.createNamespacedJob({
      namespace: control,
      body: jobFromCronJob(cj, new Date()),
    });
    await jobPod(kc, running);

    await kc.makeApiClient(AppsV1Api).deleteNamespacedStatefulSet({
      namespace: watched,
      name: db.statefulSet,
      propagationPolicy: 'Background',
    });
    await eventually('CronJob deleted', async () => ((await read.cronJob()) ? undefined : true));
    await eventually('Secret deleted', async () => ((await read.secret()) ? undefined : true));
    await eventually('running Job deleted with its CronJob', async () =>
      (await batch
        .readNamespacedJob({ namespace: control, name: running.metadata!.name! })
        .catch(() => undefined))
        ? undefined
        : true,
    );
  });
});
