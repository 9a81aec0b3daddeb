// The status record's write, through the one write path (src/apply's
// patchAnnotations over the operator's client), against the real apiserver:
// a merge patch of exactly the given keys, guarded by the resourceVersion the
// caller read (a stale one is a 409, answered as 'conflict', nothing written),
// never on an object snapkeeper does not own, and counted by the client's
// request listener like every other write.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  BatchV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1CronJob,
} from '@kubernetes/client-node';
import { patchAnnotations } from '../../src/apply/apply.js';
import { createKubeApi, type Verb } from '../../src/kube/api.js';
import { STATUS_ANNOTATIONS as A } from '../../src/labels.js';
import { kubeConfig } from '../env/helpers.js';
import { newNamespace } from './fixtures.js';
import { createSnapkeeperCronJob } from './status-fixtures.js';

const kube = inject('kube');

describe('patchAnnotations (the status record’s write)', () => {
  let kc: KubeConfig;
  let control: string;
  let batch: BatchV1Api;
  const requests: string[] = [];
  const api = () =>
    createKubeApi(kc, (verb: Verb, resource) => requests.push(`${verb} ${resource}`));

  beforeAll(async () => {
    kc = kubeConfig(kube);
    batch = kc.makeApiClient(BatchV1Api);
    control = await newNamespace(kube, 'sk-write');
  });

  async function snapkeeperCronJob(name: string): Promise<V1CronJob> {
    return createSnapkeeperCronJob(kc, control, { namespace: `shop-${name}`, name }, `${name}-0`);
  }

  it('given a CronJob snapkeeper owns, then exactly the given keys are set or removed, one patch request', async () => {
    const cj = await snapkeeperCronJob('pg');
    const name = cj.metadata!.name!;
    await batch.patchNamespacedCronJob(
      { namespace: control, name, body: { metadata: { annotations: { [A.lastError]: 'old' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const read = await batch.readNamespacedCronJob({ namespace: control, name });
    requests.length = 0;

    const r = await patchAnnotations(api().cronJobs, read, {
      [A.lastSuccess]: '2026-11-20T03:00:10Z',
      [A.lastError]: null,
    });

    expect(r.action).toBe('patched');
    expect(requests).toEqual(['patch cronjobs']);
    const after = await batch.readNamespacedCronJob({ namespace: control, name });
    const a = after.metadata?.annotations ?? {};
    expect(a[A.lastSuccess]).toBe('2026-11-20T03:00:10Z');
    expect(a).not.toHaveProperty(A.lastError);
    // Everything else as it was: the desired state's annotations and the spec.
    expect(a['snapkeeper.io/spec-hash']).toBe(
      read.metadata?.annotations?.['snapkeeper.io/spec-hash'],
    );
    expect(after.spec).toEqual(read.spec);
    if (r.action === 'patched') {
      expect(r.object.metadata?.resourceVersion).toBe(after.metadata?.resourceVersion);
    }
  });

  it('given the CronJob changed after it was read, then a conflict and nothing written', async () => {
    const cj = await snapkeeperCronJob('my');
    const name = cj.metadata!.name!;
    const read = await batch.readNamespacedCronJob({ namespace: control, name });
    await batch.patchNamespacedCronJob(
      {
        namespace: control,
        name,
        body: { metadata: { annotations: { 'example.com/touched-by': 'someone-else' } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );

    const r = await patchAnnotations(api().cronJobs, read, { [A.lastSuccess]: 'x' });

    expect(r.action).toBe('conflict');
    const after = await batch.readNamespacedCronJob({ namespace: control, name });
    expect(after.metadata?.annotations).not.toHaveProperty(A.lastSuccess);
    expect(after.metadata?.annotations?.['example.com/touched-by']).toBe('someone-else');
  });

  it('given a CronJob without snapkeeper’s label, then it is left alone: no request', async () => {
    const foreign = await batch.createNamespacedCronJob({
      namespace: control,
      body: {
        metadata: { name: `foreign-${randomBytes(3).toString('hex')}` },
        spec: {
          schedule: '0 3 * * *',
          jobTemplate: {
            spec: {
              template: {
                spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] },
              },
            },
          },
        },
      },
    });
    requests.length = 0;

    const r = await patchAnnotations(api().cronJobs, foreign, { [A.lastSuccess]: 'x' });

    expect(r.action).toBe('foreign');
    expect(requests).toEqual([]);
    const after = await batch.readNamespacedCronJob({
      namespace: control,
      name: foreign.metadata!.name!,
    });
    expect(after.metadata?.annotations ?? {}).not.toHaveProperty(A.lastSuccess);
  });
});
