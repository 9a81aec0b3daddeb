// Orphans against the real kube-apiserver: a workload whose name is longer
// than a label value (its name label is cut with a hash) is deleted while
// the operator is down. The next operator finds its CronJob and Secret by the
// workload annotation and deletes them; look-alikes without snapkeeper's
// managed-by label stay as they are.
import {
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1CronJob,
  type V1Secret,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeConfig } from '../env/helpers.js';
import { objectName } from '../../src/desired/names.js';
import { eventually, newNamespace } from './fixtures.js';
import { startTestOperator, type TestOperator } from './operator-fixtures.js';
import { createService, createDeploymentChain, pgAnnotations, PASSWORD } from './workloads.js';

const kube = inject('kube');

describe('operator cleanup of orphans', () => {
  let kc: KubeConfig;
  let watched: string;
  let control: string;
  let op: TestOperator | undefined;
  let batch: BatchV1Api;
  let core: CoreV1Api;

  // 90 characters: valid for a Deployment, too long for a label value.
  const longName = `pg-${'long-workload-name-'.repeat(4)}${'x'.repeat(11)}`;
  const app = 'pglong';

  const env = () => ({
    SNAPKEEPER_CONTROL_NAMESPACE: control,
    SNAPKEEPER_WATCH_NAMESPACES: watched,
    POD_NAME: 'snapkeeper-orphans-0',
  });
  const ownedName = () => objectName({ namespace: watched, kind: 'Deployment', name: longName });
  const readCronJob = (name: string) =>
    batch.readNamespacedCronJob({ namespace: control, name }).catch(() => undefined);
  const readSecret = (name: string) =>
    core.readNamespacedSecret({ namespace: control, name }).catch(() => undefined);

  /** An unlabelled copy of an owned object, same workload annotation, another name. */
  function lookAlike<T extends V1CronJob | V1Secret>(obj: T): T {
    const labels = { ...obj.metadata!.labels };
    delete labels['app.kubernetes.io/managed-by'];
    return {
      ...obj,
      metadata: {
        name: `lookalike-${obj.metadata!.name}`.slice(0, 52),
        namespace: control,
        labels,
        annotations: obj.metadata!.annotations,
      },
      status: undefined,
    };
  }

  beforeAll(async () => {
    kc = kubeConfig(kube);
    batch = kc.makeApiClient(BatchV1Api);
    core = kc.makeApiClient(CoreV1Api);
    watched = await newNamespace(kube, 'orphans');
    control = await newNamespace(kube, 'snapkeeper');
  });

  afterAll(async () => {
    await op?.running.stop();
  });

  it('given the CronJob and Secret of a long-named workload deleted while the operator was down, when the operator starts, then they are deleted and unlabelled look-alikes are untouched', async () => {
    expect(longName.length).toBeGreaterThan(63);
    // A Deployment → ReplicaSet → Pod of the long name, its Service and credentials.
    await core.createNamespacedSecret({
      namespace: watched,
      body: { metadata: { name: `${app}-creds` }, stringData: { password: PASSWORD } },
    });
    await createService(kc, watched, app, app);
    const { replicaSet: rsName, pods } = await createDeploymentChain(
      kc,
      watched,
      app,
      pgAnnotations(),
      1,
      longName,
    );
    const pod = pods[0]!;
    const apps = kc.makeApiClient(AppsV1Api);

    // A first operator makes the CronJob and Secret, then stops.
    op = await startTestOperator(kube, env());
    const cj = await eventually('CronJob', () => readCronJob(ownedName()));
    const secret = await eventually('Secret', () => readSecret(ownedName()));
    await op.running.stop();
    op = undefined;
    expect(cj.metadata!.labels!['snapkeeper.io/workload-name']).not.toBe(longName); // cut
    expect(cj.metadata!.annotations!['snapkeeper.io/workload']).toBe(
      `${watched}/Deployment/${longName}`,
    );
    expect(secret.metadata!.annotations!['snapkeeper.io/workload']).toBe(
      `${watched}/Deployment/${longName}`,
    );

    // While it is down: the workload goes, and look-alikes appear.
    await core.deleteNamespacedPod({
      namespace: watched,
      name: pod.metadata!.name!,
      gracePeriodSeconds: 0,
    });
    await apps.deleteNamespacedReplicaSet({ namespace: watched, name: rsName });
    await apps.deleteNamespacedDeployment({ namespace: watched, name: longName });
    const cjLike = await batch.createNamespacedCronJob({ namespace: control, body: lookAlike(cj) });
    const secretLike = await core.createNamespacedSecret({
      namespace: control,
      body: lookAlike(secret),
    });

    // The next operator finds the orphans by their annotation and deletes them.
    op = await startTestOperator(kube, env());
    await eventually(
      'orphan CronJob deleted',
      async () => ((await readCronJob(ownedName())) ? undefined : true),
      10_000,
    );
    await eventually(
      'orphan Secret deleted',
      async () => ((await readSecret(ownedName())) ? undefined : true),
      10_000,
    );
    const cjAfter = await readCronJob(cjLike.metadata!.name!);
    const secretAfter = await readSecret(secretLike.metadata!.name!);
    expect(cjAfter?.metadata?.resourceVersion).toBe(cjLike.metadata!.resourceVersion);
    expect(secretAfter?.metadata?.resourceVersion).toBe(secretLike.metadata!.resourceVersion);
    const writes = op.writes(0, ['cronjobs', 'secrets']);
    expect(
      writes.map((w) => w.verb),
      JSON.stringify(writes),
    ).toEqual(['delete', 'delete']);
  });
});
