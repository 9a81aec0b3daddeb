import type { V1Job, V1OwnerReference, V1Pod, V1ReplicaSet } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { resolveWorkload, type OwnerLookup } from '../../src/discovery/owner.js';
import { workloadKey } from '../../src/workload.js';

const ref = (kind: string, name: string, controller = true): V1OwnerReference => ({
  apiVersion: 'v1',
  kind,
  name,
  uid: `${kind}-${name}`,
  controller,
});
const pod = (owners: V1OwnerReference[], labels: Record<string, string> = {}): V1Pod => ({
  metadata: { namespace: 'shop', name: 'db-0', ownerReferences: owners, labels },
});
const rs = (name: string, owners: V1OwnerReference[]): V1ReplicaSet => ({
  metadata: { namespace: 'shop', name, ownerReferences: owners },
});
const job = (name: string, owners: V1OwnerReference[]): V1Job => ({
  metadata: { namespace: 'shop', name, ownerReferences: owners },
});

function lookup(
  replicaSets: V1ReplicaSet[] = [],
  jobs: V1Job[] = [],
): OwnerLookup & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    replicaSet: async (ns, name) => {
      calls.push(`rs ${ns}/${name}`);
      return replicaSets.find((r) => r.metadata?.name === name);
    },
    job: async (ns, name) => {
      calls.push(`job ${ns}/${name}`);
      return jobs.find((j) => j.metadata?.name === name);
    },
  };
}

describe('resolveWorkload', () => {
  it.each([
    [
      'a Deployment pod',
      pod([ref('ReplicaSet', 'postgres-5d9c')]),
      lookup([rs('postgres-5d9c', [ref('Deployment', 'postgres')])]),
      'shop/Deployment/postgres',
    ],
    [
      'a ReplicaSet without a Deployment',
      pod([ref('ReplicaSet', 'legacy')]),
      lookup([rs('legacy', [])]),
      'shop/ReplicaSet/legacy',
    ],
    [
      'a ReplicaSet gone from the cache, named after its Deployment',
      pod([ref('ReplicaSet', 'postgres-5d9c')], { 'pod-template-hash': '5d9c' }),
      lookup(),
      'shop/Deployment/postgres',
    ],
    [
      'a missing ReplicaSet without a template hash',
      pod([ref('ReplicaSet', 'x-1')]),
      lookup(),
      'shop/ReplicaSet/x-1',
    ],
    [
      'a StatefulSet pod',
      pod([ref('StatefulSet', 'mariadb')]),
      lookup(),
      'shop/StatefulSet/mariadb',
    ],
    ['a DaemonSet pod', pod([ref('DaemonSet', 'es')]), lookup(), 'shop/DaemonSet/es'],
    [
      'a CronJob pod',
      pod([ref('Job', 'nightly-123')]),
      lookup([], [job('nightly-123', [ref('CronJob', 'nightly')])]),
      'shop/CronJob/nightly',
    ],
    ['a bare Job pod', pod([ref('Job', 'once')]), lookup([], [job('once', [])]), 'shop/Job/once'],
    ['a bare pod', pod([]), lookup(), 'shop/Pod/db-0'],
    ['a pod owned by a custom resource', pod([ref('Cluster', 'pg')]), lookup(), 'shop/Pod/db-0'],
    [
      'a non-controller owner listed first',
      pod([ref('ConfigMap', 'x', false), ref('StatefulSet', 'pg')]),
      lookup(),
      'shop/StatefulSet/pg',
    ],
  ])('given %s, when resolved, then the workload is %s', async (_n, p, l, expected) => {
    expect(workloadKey(await resolveWorkload(p, l))).toBe(expected);
  });

  it('given a StatefulSet pod, when resolved, then no owner is fetched', async () => {
    const l = lookup();
    await resolveWorkload(pod([ref('StatefulSet', 'pg')]), l);
    expect(l.calls).toEqual([]);
  });
});
