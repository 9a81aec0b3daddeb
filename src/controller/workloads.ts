import type { V1Pod } from '@kubernetes/client-node';

/**
 * Which workload each tracked pod belongs to (resolved through its owner
 * chain), and the reverse: the pods of a workload. Kept by the controller as
 * pod events arrive; read by reconciles.
 */
export class WorkloadIndex {
  private readonly byPod = new Map<string, { key: string; owners: string }>();
  private readonly byWorkload = new Map<string, Set<string>>();

  static podKey(pod: V1Pod): string {
    return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
  }

  /** A signature of the pod's owners: unchanged owners need no new lookup. */
  static ownersOf(pod: V1Pod): string {
    return JSON.stringify(
      (pod.metadata?.ownerReferences ?? []).map((o) => [o.kind, o.name, o.uid]),
    );
  }

  lookup(podKey: string): { key: string; owners: string } | undefined {
    return this.byPod.get(podKey);
  }

  /** Record a pod's workload; returns the previous one if it changed. */
  set(podKey: string, key: string, owners: string): string | undefined {
    const old = this.byPod.get(podKey);
    this.byPod.set(podKey, { key, owners });
    if (old?.key === key) return undefined;
    if (old) this.detach(podKey, old.key);
    let pods = this.byWorkload.get(key);
    if (!pods) this.byWorkload.set(key, (pods = new Set()));
    pods.add(podKey);
    return old?.key;
  }

  /** Forget a pod; returns the workload it belonged to. */
  remove(podKey: string): string | undefined {
    const old = this.byPod.get(podKey);
    if (!old) return undefined;
    this.byPod.delete(podKey);
    this.detach(podKey, old.key);
    return old.key;
  }

  podsOf(key: string): string[] {
    return [...(this.byWorkload.get(key) ?? [])];
  }

  workloads(): string[] {
    return [...this.byWorkload.keys()];
  }

  private detach(podKey: string, key: string): void {
    const pods = this.byWorkload.get(key);
    pods?.delete(podKey);
    if (pods?.size === 0) this.byWorkload.delete(key);
  }
}
