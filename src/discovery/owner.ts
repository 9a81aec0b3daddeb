/**
 * The workload behind a pod: Pod → ReplicaSet → Deployment, Pod →
 * StatefulSet, Pod → DaemonSet, Pod → Job → CronJob; a bare pod is its own
 * workload. One backup per workload, never one per replica.
 */
import type { V1Job, V1ObjectMeta, V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { POD_TEMPLATE_HASH_LABEL } from '../labels.js';
import type { WorkloadRef } from '../workload.js';

/** Reads of the intermediate owners (from an informer cache or the API). */
export interface OwnerLookup {
  /** Only its metadata (the owner references) is read. */
  replicaSet(ns: string, name: string): Promise<{ metadata?: V1ObjectMeta } | undefined>;
  job(ns: string, name: string): Promise<V1Job | undefined>;
}

/** The controlling owner reference (controller: true), else the first one. */
export function controllerOf(meta: V1ObjectMeta | undefined): V1OwnerReference | undefined {
  const refs = meta?.ownerReferences ?? [];
  return refs.find((r) => r.controller === true) ?? refs[0];
}

/**
 * Resolves the workload. A ReplicaSet or Job that cannot be read (deleted
 * during a rollout, not yet in the cache) does not make the pod change
 * identity: a ReplicaSet named `<deployment>-<pod-template-hash>` is taken
 * as that Deployment's, since that is how the Deployment controller names
 * them; a Job is taken as itself. A controller of any other kind (an
 * operator's custom resource) is not followed: the pod is its own workload.
 */
export async function resolveWorkload(pod: V1Pod, lookup: OwnerLookup): Promise<WorkloadRef> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const podName = pod.metadata?.name ?? '';
  const owner = controllerOf(pod.metadata);
  const self: WorkloadRef = { namespace, kind: 'Pod', name: podName };
  if (!owner) return self;

  switch (owner.kind) {
    case 'StatefulSet':
    case 'DaemonSet':
      return { namespace, kind: owner.kind, name: owner.name };
    case 'ReplicaSet': {
      const rs = await lookup.replicaSet(namespace, owner.name);
      if (rs) {
        const rsOwner = controllerOf(rs.metadata);
        if (rsOwner?.kind === 'Deployment')
          return { namespace, kind: 'Deployment', name: rsOwner.name };
        return { namespace, kind: 'ReplicaSet', name: owner.name };
      }
      const hash = pod.metadata?.labels?.[POD_TEMPLATE_HASH_LABEL];
      if (hash && owner.name.endsWith(`-${hash}`) && owner.name.length > hash.length + 1) {
        return { namespace, kind: 'Deployment', name: owner.name.slice(0, -(hash.length + 1)) };
      }
      return { namespace, kind: 'ReplicaSet', name: owner.name };
    }
    case 'Job': {
      const job = await lookup.job(namespace, owner.name);
      const jobOwner = controllerOf(job?.metadata);
      if (jobOwner?.kind === 'CronJob') return { namespace, kind: 'CronJob', name: jobOwner.name };
      return { namespace, kind: 'Job', name: owner.name };
    }
    default:
      return self;
  }
}
