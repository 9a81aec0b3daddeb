// Restart and replicas against the real apiserver: a second start against
// the same state writes nothing; of two replicas only the Lease holder
// writes; when it dies without releasing, the other takes over after expiry.
import { BatchV1Api, CoordinationV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeConfig } from '../env/helpers.js';
import { objectName } from '../../src/desired/names.js';
import { eventually, newNamespace } from './fixtures.js';
import { resynced, settled, startTestOperator, type TestOperator } from './operator-fixtures.js';
import { createDeploymentChain, createSupport, pgAnnotations } from './workloads.js';

const kube = inject('kube');
const OWNED = ['cronjobs', 'secrets', 'events'];

describe('operator restart and leader election', () => {
  let kc: KubeConfig;
  let batch: BatchV1Api;
  const started: TestOperator[] = [];

  beforeAll(() => {
    kc = kubeConfig(kube);
    batch = kc.makeApiClient(BatchV1Api);
  });

  afterEach(async () => {
    for (const op of started.splice(0)) await op.running.stop();
  });

  const cronJob = (control: string, ns: string, app: string) =>
    batch
      .readNamespacedCronJob({
        namespace: control,
        name: objectName({ namespace: ns, kind: 'Deployment', name: app }),
      })
      .catch(() => undefined);

  it('given a reconciled state, when the operator restarts, then it makes no write', async () => {
    const watched = await newNamespace(kube, 'rs');
    const control = await newNamespace(kube, 'rsctl');
    const env = { SNAPKEEPER_CONTROL_NAMESPACE: control, SNAPKEEPER_WATCH_NAMESPACES: watched };
    for (const app of ['a', 'b', 'c']) {
      await createSupport(kc, watched, app);
      await createDeploymentChain(kc, watched, app, pgAnnotations());
    }
    // A problem too, whose Warning must not be repeated by the new process.
    await createSupport(kc, watched, 'nosvc', { service: false });
    await createDeploymentChain(kc, watched, 'nosvc', pgAnnotations());

    const first = await startTestOperator(kube, env);
    started.push(first);
    for (const app of ['a', 'b', 'c'])
      await eventually(`CronJob ${app}`, () => cronJob(control, watched, app));
    await eventually('NoService event written', () =>
      first.writes(0, ['events']).length >= 4 ? true : undefined,
    );
    await first.running.stop();
    started.pop();

    const second = await startTestOperator(kube, env);
    started.push(second);
    await second.running.controller.queue.drained();
    // Three resyncs of the four workloads.
    expect(await resynced(second, 3)).toBeGreaterThanOrEqual(12);
    expect(
      second.requests.filter((r) => r.verb === 'get' || r.verb === 'list').length,
    ).toBeGreaterThan(0);
    expect(second.writes()).toEqual([]);
  });

  it('given two replicas, then only the Lease holder writes, and when it dies the other takes over after expiry', async () => {
    const watched = await newNamespace(kube, 'le');
    const control = await newNamespace(kube, 'lectl');
    const env = (pod: string) => ({
      SNAPKEEPER_CONTROL_NAMESPACE: control,
      SNAPKEEPER_WATCH_NAMESPACES: watched,
      SNAPKEEPER_LEADER_ELECTION: 'true',
      SNAPKEEPER_LEASE_NAME: 'snapkeeper-leader',
      POD_NAME: pod,
    });
    const tuning = { leaseDurationSeconds: 3, leaseRetryPeriodMs: 300, leaseRenewDeadlineMs: 2000 };
    const a = await startTestOperator(kube, env('replica-a'), tuning);
    started.push(a);
    const b = await startTestOperator(kube, env('replica-b'), tuning);
    started.push(b);
    await eventually(
      'a leader',
      () => a.running.controller.isLeader() || b.running.controller.isLeader(),
    );
    const [leader, standby] = a.running.controller.isLeader() ? [a, b] : [b, a];
    // The standby keeps trying for the Lease (every 300 ms here): three more tries, none won.
    const tries = () => standby.requests.filter((r) => r.resource === 'leases').length;
    const triedBefore = tries();
    await eventually('three more Lease tries by the standby', () =>
      tries() >= triedBefore + 3 ? true : undefined,
    );
    expect(a.running.controller.isLeader() && b.running.controller.isLeader()).toBe(false);

    for (const app of ['x', 'y']) {
      await createSupport(kc, watched, app);
      await createDeploymentChain(kc, watched, app, pgAnnotations());
    }
    for (const app of ['x', 'y'])
      await eventually(`CronJob ${app}`, () => cronJob(control, watched, app));
    await settled(leader);
    // The standby has resolved both workloads too, and had a resync of them
    // (its queue is paused: a standby that reconciled would write here).
    await eventually('both workloads known to the standby', () =>
      standby.running.controller.resolver.index.workloads().length >= 2 ? true : undefined,
    );
    await resynced(standby);
    expect(leader.writes(0, OWNED).length).toBeGreaterThanOrEqual(4);
    expect(standby.writes(0, OWNED)).toEqual([]);
    // The standby has warm caches all the same.
    expect(standby.running.controller.isReady()).toBe(true);

    const lease = await kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ namespace: control, name: 'snapkeeper-leader' });
    expect(lease.spec?.holderIdentity).toBe(leader.config.podName);

    // The leader dies without releasing the Lease.
    const diedAt = Date.now();
    await leader.running.stop(false);
    started.splice(started.indexOf(leader), 1);
    await eventually('takeover', () => standby.running.controller.isLeader(), 15_000);
    expect(Date.now() - diedAt).toBeGreaterThanOrEqual(1000); // waited for expiry, did not grab it

    await createSupport(kc, watched, 'z');
    await createDeploymentChain(kc, watched, 'z', pgAnnotations());
    await eventually('CronJob z by the new leader', () => cronJob(control, watched, 'z'));
    expect(standby.writes(0, ['cronjobs']).length).toBe(1);
  });
});
