// `helm uninstall` removes what the operator created, against the real
// kube-apiserver and kube-controller-manager (garbage collector). With
// SNAPKEEPER_OWNER_CONFIGMAP (the chart sets it to its own ConfigMap), every
// CronJob and Secret names that ConfigMap as its owner; deleting it, as Helm
// does, has the garbage collector delete them. Without the ConfigMap the
// operator refuses to start, naming the variable.
import { BatchV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeConfig } from '../env/helpers.js';
import { objectName } from '../../src/desired/names.js';
import { ConfigError } from '../../src/errors.js';
import { eventually, newNamespace } from './fixtures.js';
import { startTestOperator, type TestOperator } from './operator-fixtures.js';
import { createStatefulSetChain, createSupport, pgAnnotations } from './workloads.js';

const kube = inject('kube');

describe('operator: owned objects name the chart ConfigMap as their owner', () => {
  let kc: KubeConfig;
  let core: CoreV1Api;
  let batch: BatchV1Api;
  let watched: string;
  let control: string;
  let op: TestOperator | undefined;
  const owner = 'snapkeeper-config';

  beforeAll(async () => {
    kc = kubeConfig(kube);
    core = kc.makeApiClient(CoreV1Api);
    batch = kc.makeApiClient(BatchV1Api);
    watched = await newNamespace(kube, 'owned');
    control = await newNamespace(kube, 'snapkeeper');
  });

  afterAll(async () => {
    await op?.running.stop();
  });

  it('given no such ConfigMap, when the operator starts, then it refuses with SNAPKEEPER_OWNER_CONFIGMAP named', async () => {
    const start = startTestOperator(kube, {
      SNAPKEEPER_CONTROL_NAMESPACE: control,
      SNAPKEEPER_WATCH_NAMESPACES: watched,
      SNAPKEEPER_OWNER_CONFIGMAP: owner,
    });
    const err = await start.then(
      async (o) => {
        await o.running.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([
      `SNAPKEEPER_OWNER_CONFIGMAP: no ConfigMap ${control}/${owner}`,
    ]);
  });

  it('given the ConfigMap, when a workload is tracked and the ConfigMap is then deleted, then its CronJob and Secret are garbage-collected', async () => {
    const cm = await core.createNamespacedConfigMap({
      namespace: control,
      body: { metadata: { name: owner }, data: {} },
    });
    op = await startTestOperator(kube, {
      SNAPKEEPER_CONTROL_NAMESPACE: control,
      SNAPKEEPER_WATCH_NAMESPACES: watched,
      SNAPKEEPER_OWNER_CONFIGMAP: owner,
    });
    await createSupport(kc, watched, 'db');
    await createStatefulSetChain(kc, watched, 'db', pgAnnotations());
    const name = objectName({ namespace: watched, kind: 'StatefulSet', name: 'db' });
    const cronJob = () =>
      batch.readNamespacedCronJob({ namespace: control, name }).catch(() => undefined);
    const secret = () =>
      core.readNamespacedSecret({ namespace: control, name }).catch(() => undefined);

    const expected = [{ apiVersion: 'v1', kind: 'ConfigMap', name: owner, uid: cm.metadata!.uid }];
    const cj = await eventually('CronJob', cronJob);
    const s = await eventually('Secret', secret);
    expect(cj.metadata?.ownerReferences).toEqual(expected);
    expect(s.metadata?.ownerReferences).toEqual(expected);

    // What helm uninstall does: the operator goes, then its ConfigMap.
    await op.running.stop();
    op = undefined;
    await core.deleteNamespacedConfigMap({ namespace: control, name: owner });
    await eventually(
      'CronJob and Secret garbage-collected',
      async () =>
        (await cronJob()) === undefined && (await secret()) === undefined ? true : undefined,
      60_000,
      250,
    );
  });
});
