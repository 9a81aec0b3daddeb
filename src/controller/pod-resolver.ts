/**
 * Pod → workload: each tracked pod is resolved through its owner chain
 * (src/discovery/owner.ts) on a queue of its own, and indexed both ways
 * (WorkloadIndex); the workload it belongs to, before and after, is handed
 * to `enqueue`. Runs on every replica, so a standby is warm.
 */
import type { V1ObjectMeta, V1Pod } from '@kubernetes/client-node';
import { isTracked } from '../annotations/index.js';
import { controllerOf, resolveWorkload } from '../discovery/owner.js';
import type { KubeApi } from '../kube/api.js';
import type { Informer } from '../kube/informer.js';
import type { Logger } from '../log.js';
import { WorkQueue, type Schedule } from './queue.js';
import { WorkloadIndex } from './workloads.js';
import { workloadKey } from '../workload.js';

/** Cached ReplicaSet owners live this long (their owner never changes in practice). */
const OWNER_CACHE_MS = 10 * 60 * 1000;

/** What owner resolution reads of a ReplicaSet: its controller. */
type OwnerOnly = { metadata: Pick<V1ObjectMeta, 'ownerReferences'> };

export interface PodResolverOptions {
  /** The pod cache of a watched namespace. */
  pods(namespace: string): Informer<V1Pod> | undefined;
  read: Pick<KubeApi['read'], 'getReplicaSet' | 'getJob'>;
  /** A workload whose pods changed: reconcile it. */
  enqueue(key: string): void;
  log: Logger;
  concurrency: number;
  schedule?: Schedule;
}

export class PodResolver {
  readonly index = new WorkloadIndex();
  readonly queue: WorkQueue;
  /** Tracked pods not resolved yet. */
  private readonly unresolved = new Set<string>();
  /**
   * ReplicaSet → its controller reference, nothing else of it: at thousands
   * of workloads whole ReplicaSets (pod template, status) were megabytes.
   */
  private readonly owners = new Map<string, { rs: OwnerOnly | undefined; at: number }>();

  constructor(private readonly o: PodResolverOptions) {
    this.queue = new WorkQueue((podKey) => this.resolve(podKey), {
      log: o.log,
      concurrency: o.concurrency,
      ...(o.schedule ? { schedule: o.schedule } : {}),
    });
  }

  /** A pod was added or changed. */
  onPod(pod: V1Pod): void {
    const podKey = WorkloadIndex.podKey(pod);
    const known = this.index.lookup(podKey);
    if (!isTracked(pod.metadata?.annotations)) {
      // Annotation removed: its workload may have to be cleaned up.
      if (known) this.queue.add(podKey);
      return;
    }
    if (known && known.owners === WorkloadIndex.ownersOf(pod)) {
      this.o.enqueue(known.key);
      return;
    }
    this.unresolved.add(podKey);
    this.queue.add(podKey);
  }

  onPodDeleted(pod: V1Pod): void {
    const podKey = WorkloadIndex.podKey(pod);
    this.unresolved.delete(podKey);
    const key = this.index.remove(podKey);
    if (key) this.o.enqueue(key);
  }

  /**
   * True while pods of the namespace are still being resolved: "no pod" for
   * one of its workloads may then only mean "not indexed yet".
   */
  resolving(namespace: string): boolean {
    return [...this.unresolved].some((p) => p.startsWith(`${namespace}/`));
  }

  /** Live (not terminating) pods of a workload, from the pod cache. */
  podsOf(key: string): V1Pod[] {
    const pods: V1Pod[] = [];
    for (const podKey of this.index.podsOf(key)) {
      const [ns = '', name = ''] = podKey.split('/');
      const pod = this.o.pods(ns)?.get(ns, name);
      if (pod && !pod.metadata?.deletionTimestamp) pods.push(pod);
    }
    return pods;
  }

  /** Resolve one pod's workload (owner chain) and index it. */
  private async resolve(podKey: string): Promise<void> {
    const [ns = '', name = ''] = podKey.split('/');
    const pod = this.o.pods(ns)?.get(ns, name);
    if (!pod) {
      this.unresolved.delete(podKey);
      const old = this.index.remove(podKey);
      if (old) this.o.enqueue(old);
      return;
    }
    if (!isTracked(pod.metadata?.annotations)) {
      // Annotation removed from a pod of a known workload: the pod stays
      // indexed (a workload with pods, none annotated, is one whose
      // annotation was removed, not one whose pods are restarting).
      this.unresolved.delete(podKey);
      const known = this.index.lookup(podKey);
      if (known) this.o.enqueue(known.key);
      return;
    }
    const w = await resolveWorkload(pod, {
      replicaSet: (n, rs) => this.replicaSet(n, rs),
      job: (n, j) => this.o.read.getJob(n, j),
    });
    const key = workloadKey(w);
    const old = this.index.set(podKey, key, WorkloadIndex.ownersOf(pod));
    this.unresolved.delete(podKey);
    if (old) this.o.enqueue(old);
    this.o.enqueue(key);
  }

  private async replicaSet(namespace: string, name: string): Promise<OwnerOnly | undefined> {
    const k = `${namespace}/${name}`;
    const hit = this.owners.get(k);
    const now = Date.now();
    if (hit && now - hit.at < OWNER_CACHE_MS) return hit.rs;
    const read = await this.o.read.getReplicaSet(namespace, name);
    const controller = read && controllerOf(read.metadata);
    const rs = read && { metadata: { ownerReferences: controller ? [controller] : [] } };
    this.owners.set(k, { rs, at: now });
    return rs;
  }
}
