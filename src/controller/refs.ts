import type { KubernetesObject } from '@kubernetes/client-node';
import type { Informer } from '../kube/informer.js';

/** "namespace/Kind/name" of a referenced Secret or ConfigMap. */
export type RefKey = string;

export const refKey = (namespace: string, kind: 'Secret' | 'ConfigMap', name: string): RefKey =>
  `${namespace}/${kind}/${name}`;

/**
 * The content of referenced objects of one kind (Secrets, or ConfigMaps),
 * read without a request per reconcile.
 *
 * A metadata-only informer per watched namespace tells which objects exist
 * and when one changes; it never holds their data. The data of an object a
 * database pod references is read (GET) the first time it is needed, then
 * served from here until the informer reports a change of that object, which
 * drops it (the next reconcile reads it again). A miss is remembered too: a
 * workload whose Secret does not exist does not read it at every resync; the
 * Secret's creation drops the miss. Only referenced objects are kept, and
 * `retain` drops those no workload references any more.
 */
export class RefCache<T extends KubernetesObject> {
  /** Data by "namespace/name"; undefined: read, and not found. */
  private readonly entries = new Map<string, T | undefined>();
  /** Reads in flight; `stale` when the object changed while it was being read. */
  private readonly pending = new Map<string, { p: Promise<T | undefined>; stale: boolean }>();

  constructor(
    private readonly informers: Map<string, Informer<KubernetesObject>>,
    private readonly read: (namespace: string, name: string) => Promise<T | undefined>,
    private readonly trim: (obj: T) => T = (o) => o,
  ) {
    for (const inf of informers.values()) {
      const changed = (o: KubernetesObject) => this.invalidate(keyOf(o));
      inf.on({ add: changed, update: (_old, o) => changed(o), delete: changed });
    }
  }

  /** The object's content, from memory, or read once. */
  get(namespace: string, name: string): Promise<T | undefined> {
    const key = `${namespace}/${name}`;
    if (this.entries.has(key)) return Promise.resolve(this.entries.get(key));
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight.p;
    const state = { p: this.fetch(key, namespace, name), stale: false };
    this.pending.set(key, state);
    return state.p;
  }

  private async fetch(key: string, namespace: string, name: string): Promise<T | undefined> {
    const informer = this.informers.get(namespace);
    try {
      const obj = await this.read(namespace, name);
      const value = obj ? this.trim(obj) : undefined;
      // A change seen while reading may be newer than what was read: not kept.
      // Kept only where an informer will report the next change.
      if (informer && !this.pending.get(key)?.stale) this.entries.set(key, value);
      return value;
    } finally {
      this.pending.delete(key);
    }
  }

  /** The informer saw the object added, changed or deleted. */
  invalidate(key: string): void {
    this.entries.delete(key);
    const p = this.pending.get(key);
    if (p) p.stale = true;
  }

  /** Forget an object no workload references any more. */
  forget(namespace: string, name: string): void {
    this.invalidate(`${namespace}/${name}`);
  }

  /** Objects held (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }
}

/**
 * Which workloads use which referenced objects: set after each reconcile from
 * the references it followed (found or not), so a change of one object
 * requeues exactly its workloads.
 */
export class RefIndex {
  private readonly byWorkload = new Map<string, Set<RefKey>>();
  private readonly byRef = new Map<RefKey, Set<string>>();

  /** Sets a workload's references; returns those no workload uses any more. */
  set(workload: string, refs: Iterable<RefKey>): RefKey[] {
    const next = new Set(refs);
    const old = this.byWorkload.get(workload);
    const unused: RefKey[] = [];
    for (const r of old ?? []) {
      if (next.has(r)) continue;
      const users = this.byRef.get(r);
      users?.delete(workload);
      if (users?.size === 0) {
        this.byRef.delete(r);
        unused.push(r);
      }
    }
    for (const r of next) {
      let users = this.byRef.get(r);
      if (!users) this.byRef.set(r, (users = new Set()));
      users.add(workload);
    }
    if (next.size === 0) this.byWorkload.delete(workload);
    else this.byWorkload.set(workload, next);
    return unused;
  }

  workloadsUsing(ref: RefKey): string[] {
    return [...(this.byRef.get(ref) ?? [])];
  }

  isUsed(ref: RefKey): boolean {
    return this.byRef.has(ref);
  }

  refsOf(workload: string): RefKey[] {
    return [...(this.byWorkload.get(workload) ?? [])];
  }
}

function keyOf(o: KubernetesObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}
