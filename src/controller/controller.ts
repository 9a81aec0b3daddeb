import type {
  KubernetesObject,
  V1ConfigMap,
  V1Pod,
  V1ReplicaSet,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import type { RefLookup } from '../discovery/credentials.js';
import type { OperatorConfig } from '../config/operator.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import {
  MANAGED_BY,
  MANAGED_BY_LABEL,
  WORKLOAD_ANNOTATION,
  WORKLOAD_KIND_LABEL,
  WORKLOAD_NAME_LABEL,
  WORKLOAD_NAMESPACE_LABEL,
} from '../labels.js';
import type { KubeApi, V1PartialObjectMetadata } from '../kube/api.js';
import { Informer, type DelayFn } from '../kube/informer.js';
import { EventRecorder } from './events.js';
import { LeaderElector } from './leader.js';
import type { Logic } from './logic.js';
import { WorkQueue, type Schedule } from './queue.js';
import { RefCache, RefIndex, refKey, type RefKey } from './refs.js';
import {
  Tombstones,
  parseWorkloadKey,
  reconcileWorkload,
  type WorkloadState,
} from './reconcile.js';
import { WorkloadIndex } from './workloads.js';

export interface ControllerOptions {
  config: OperatorConfig;
  api: KubeApi;
  logic: Logic;
  log: Logger;
  metrics: Metrics;
  /** Workloads reconciled at once. */
  concurrency?: number;
  /** Test knobs. */
  leaseDurationSeconds?: number;
  leaseRetryPeriodMs?: number;
  leaseRenewDeadlineMs?: number;
  eventWindowMs?: number;
  delay?: DelayFn;
  schedule?: Schedule;
  /** Told when this replica starts and stops leading (the status controller runs only then). */
  leaderHooks?: { started(): void; stopped(): void | Promise<void> };
}

/**
 * Workloads reconciled (and pods resolved to their workloads) at once. Each reconcile makes its requests one after
 * the other (read a Secret, apply the Secret, the CronJob, an Event); the
 * API client's connection pool (16, src/kube/client.ts) bounds what is in
 * flight, so this keeps the pool busy without queueing deep behind it.
 */
const RECONCILE_CONCURRENCY = 16;

/** Cached ReplicaSet owners live this long (their owner never changes in practice). */
const OWNER_CACHE_MS = 10 * 60 * 1000;

/**
 * The operator: informers → per-workload work queue → reconcile.
 *
 *   pods, Services (each watched namespace)          ┐
 *   Secret, ConfigMap metadata (each watched ns.)    │
 *   snapkeeper CronJobs, Secrets (control namespace) ┘→ caches
 *   pod event → resolve its workload (owner chain)   → enqueue "ns/Kind/name"
 *   a referenced Secret/ConfigMap changes            → enqueue the workloads using it
 *   every resyncSeconds                              → enqueue every known workload
 *
 * Informers and owner resolution run on every replica (a standby is warm);
 * reconciles, and therefore writes, only on the leader.
 */
export class Controller {
  readonly pods: Informer<V1Pod>[];
  readonly services: Informer<V1Service>[];
  /** Owned CronJobs and mirrored Secrets: metadata only (labels, annotations, resourceVersion). */
  readonly cronJobs: Informer<V1PartialObjectMetadata>;
  readonly secrets: Informer<V1PartialObjectMetadata>;
  /** Metadata only of every Secret / ConfigMap of the watched namespaces. */
  readonly secretMeta: Informer<KubernetesObject>[];
  readonly configMapMeta: Informer<KubernetesObject>[];
  /** The content of the referenced ones, read once per change. */
  readonly secretData: RefCache<V1Secret>;
  readonly configMapData: RefCache<V1ConfigMap>;
  readonly refIndex = new RefIndex();
  readonly index = new WorkloadIndex();
  readonly queue: WorkQueue;
  readonly resolver: WorkQueue;
  readonly events: EventRecorder;
  readonly elector: LeaderElector | undefined;
  private readonly states = new Map<string, WorkloadState>();
  private readonly unresolved = new Set<string>();
  private readonly deleted = new Tombstones();
  private readonly owners = new Map<string, { rs: V1ReplicaSet | undefined; at: number }>();
  private resyncTimer: NodeJS.Timeout | undefined;
  private started = false;
  private syncedFlag = false;
  private leading = false;
  private shuttingDown = false;
  private signalShutdown!: () => void;
  private readonly shutdownRequested = new Promise<void>((r) => (this.signalShutdown = r));

  constructor(private readonly o: ControllerOptions) {
    const { config, api, log } = o;
    const informerOptions = {
      log: log.child({ component: 'informer' }),
      ...(o.delay ? { delay: o.delay } : {}),
    };
    this.pods = config.watchNamespaces.map((ns) => new Informer(api.pods(ns), informerOptions));
    this.services = config.watchNamespaces.map(
      (ns) => new Informer(api.services(ns), informerOptions),
    );
    const selector = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
    this.cronJobs = new Informer(
      api.ownedCronJobs(config.controlNamespace, selector),
      informerOptions,
    );
    this.secrets = new Informer(
      api.ownedSecrets(config.controlNamespace, selector),
      informerOptions,
    );
    this.secretMeta = config.watchNamespaces.map(
      (ns) => new Informer(api.secretsMetadata(ns), informerOptions),
    );
    this.configMapMeta = config.watchNamespaces.map(
      (ns) => new Informer(api.configMapsMetadata(ns), informerOptions),
    );
    const byNamespace = (infs: Informer<KubernetesObject>[]) =>
      new Map(config.watchNamespaces.map((ns, i) => [ns, infs[i]!]));
    this.secretData = new RefCache<V1Secret>(
      byNamespace(this.secretMeta),
      (ns, n) => api.read.getSecret(ns, n),
      (s) => ({
        metadata: { namespace: s.metadata?.namespace, name: s.metadata?.name },
        ...(s.data ? { data: s.data } : {}),
        ...(s.stringData ? { stringData: s.stringData } : {}),
      }),
    );
    this.configMapData = new RefCache<V1ConfigMap>(
      byNamespace(this.configMapMeta),
      (ns, n) => api.read.getConfigMap(ns, n),
      (c) => ({
        metadata: { namespace: c.metadata?.namespace, name: c.metadata?.name },
        ...(c.data ? { data: c.data } : {}),
      }),
    );

    this.events = new EventRecorder({
      api: api.events,
      log,
      instance: config.podName,
      ...(o.eventWindowMs !== undefined ? { windowMs: o.eventWindowMs } : {}),
    });
    const queueOptions = { log, ...(o.schedule ? { schedule: o.schedule } : {}) };
    this.queue = new WorkQueue((key) => this.reconcile(key), {
      ...queueOptions,
      concurrency: o.concurrency ?? RECONCILE_CONCURRENCY,
      onError: () => o.metrics.reconcileErrors.inc(),
    });
    this.resolver = new WorkQueue((podKey) => this.resolve(podKey), {
      ...queueOptions,
      concurrency: RECONCILE_CONCURRENCY,
    });

    for (const inf of this.pods) {
      inf.on({
        add: (pod) => this.onPod(pod),
        update: (_old, pod) => this.onPod(pod),
        delete: (pod) => this.onPodDeleted(pod),
      });
    }
    for (const inf of this.services) {
      // A Service appearing, changing or going can fix or break any workload of its namespace.
      const requeue = (svc: V1Service) => this.enqueueNamespace(svc.metadata?.namespace ?? '');
      inf.on({ add: requeue, update: (_o, s) => requeue(s), delete: requeue });
    }
    for (const [kind, infs] of [
      ['Secret', this.secretMeta],
      ['ConfigMap', this.configMapMeta],
    ] as const) {
      // A referenced Secret or ConfigMap was created, changed or deleted:
      // reconcile the workloads that use it (a new password reaches the
      // mirrored Secret now, not at the next resync).
      const requeue = (o: KubernetesObject) => {
        const ref = refKey(o.metadata?.namespace ?? '', kind, o.metadata?.name ?? '');
        for (const key of this.refIndex.workloadsUsing(ref)) this.queue.add(key);
      };
      for (const inf of infs)
        inf.on({ add: requeue, update: (_o, n) => requeue(n), delete: requeue });
    }
    for (const inf of [this.cronJobs, this.secrets]) {
      // Someone edited or deleted an object we own: reconcile its workload.
      const requeue = (obj: V1PartialObjectMetadata) => {
        const key = this.keyOfOwned(obj);
        if (key) this.queue.add(key);
      };
      inf.on({ update: (_o, n) => requeue(n), delete: requeue });
    }

    if (config.leaderElection) {
      this.elector = new LeaderElector({
        api: api.leases,
        log: log.child({ component: 'leader' }),
        namespace: config.controlNamespace,
        name: config.leaseName,
        identity: config.podName,
        ...(o.leaseDurationSeconds ? { leaseDurationSeconds: o.leaseDurationSeconds } : {}),
        ...(o.leaseRetryPeriodMs ? { retryPeriodMs: o.leaseRetryPeriodMs } : {}),
        ...(o.leaseRenewDeadlineMs ? { renewDeadlineMs: o.leaseRenewDeadlineMs } : {}),
        ...(o.delay ? { delay: o.delay } : {}),
        onStartedLeading: () => void this.startLeading(),
        onStoppedLeading: () => this.stopLeading(),
      });
    }
  }

  private get informers(): Informer<KubernetesObject>[] {
    return [
      ...this.pods,
      ...this.services,
      ...this.secretMeta,
      ...this.configMapMeta,
      this.cronJobs,
      this.secrets,
    ] as Informer<KubernetesObject>[];
  }

  /** Ready: every cache has listed once and the initial pods are resolved. */
  isReady(): boolean {
    return this.syncedFlag;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Start the informers; resolves once the caches are synced. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    for (const inf of this.informers) inf.start();
    this.resolver.start();
    await Promise.race([Promise.all(this.informers.map((i) => i.synced)), this.shutdownRequested]);
    if (this.shuttingDown) return;
    await this.resolver.drained();
    if (this.shuttingDown) return;
    this.syncedFlag = true;
    this.o.log.info('caches synced', {
      pods: this.pods.reduce((n, i) => n + i.list().length, 0),
      workloads: this.index.workloads().length,
    });
    this.resyncTimer = setInterval(() => this.resync(), this.o.config.resyncSeconds * 1000);
    this.resyncTimer.unref?.();
    if (this.elector) this.elector.start();
    else await this.startLeading();
  }

  async stop(): Promise<void> {
    await this.shutdown(true);
  }

  /** Stop as a crash would look to the other replica: the Lease is not released. */
  async stopWithoutRelease(): Promise<void> {
    await this.shutdown(false);
  }

  private async shutdown(release: boolean): Promise<void> {
    this.shuttingDown = true;
    this.signalShutdown();
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    this.queue.pause();
    await this.queue.drained();
    await this.o.leaderHooks?.stopped();
    await this.elector?.stop(release);
    this.leading = false;
    await Promise.all([this.queue.stop(), this.resolver.stop()]);
    await Promise.all(this.informers.map((i) => i.stop()));
    this.o.api.close();
  }

  /** Every known workload: tracked ones, and those with owned objects (for cleanup). */
  allKeys(): string[] {
    const keys = new Set(this.index.workloads());
    for (const obj of [...this.cronJobs.list(), ...this.secrets.list()]) {
      const key = this.keyOfOwned(obj);
      if (key) keys.add(key);
    }
    return [...keys];
  }

  resync(): void {
    for (const key of this.allKeys()) this.queue.add(key);
  }

  /** The workload of an owned object: by its labels, or an indexed workload of that object name. */
  private keyOfOwned(obj: V1PartialObjectMetadata): string | undefined {
    const key = ownerKey(obj);
    if (key) return key;
    const name = obj.metadata?.name;
    return this.index
      .workloads()
      .find((k) => this.o.logic.objectName(parseWorkloadKey(k)) === name);
  }

  private async startLeading(): Promise<void> {
    if (this.leading) return;
    this.leading = true;
    // Learn which Events exist, so a new leader does not repeat them.
    await Promise.all(this.o.config.watchNamespaces.map((ns) => this.events.seed(ns)));
    if (!this.leading) return;
    this.resync();
    this.queue.start();
    this.o.leaderHooks?.started();
  }

  private stopLeading(): void {
    this.leading = false;
    this.queue.pause();
    void this.o.leaderHooks?.stopped();
  }

  private onPod(pod: V1Pod): void {
    const podKey = WorkloadIndex.podKey(pod);
    const known = this.index.lookup(podKey);
    if (!this.o.logic.isTracked(pod.metadata?.annotations)) {
      // Annotation removed: its workload may have to be cleaned up.
      if (known) this.resolver.add(podKey);
      return;
    }
    if (known && known.owners === WorkloadIndex.ownersOf(pod)) {
      this.queue.add(known.key);
      return;
    }
    this.unresolved.add(podKey);
    this.resolver.add(podKey);
  }

  private onPodDeleted(pod: V1Pod): void {
    const podKey = WorkloadIndex.podKey(pod);
    this.unresolved.delete(podKey);
    const key = this.index.remove(podKey);
    if (key) this.queue.add(key);
  }

  private podInformer(namespace: string): Informer<V1Pod> | undefined {
    const i = this.o.config.watchNamespaces.indexOf(namespace);
    return i < 0 ? undefined : this.pods[i];
  }

  /** Resolve one pod's workload (owner chain) and index it. */
  private async resolve(podKey: string): Promise<void> {
    const [ns = '', name = ''] = podKey.split('/');
    const pod = this.podInformer(ns)?.get(ns, name);
    if (!pod) {
      this.unresolved.delete(podKey);
      const old = this.index.remove(podKey);
      if (old) this.queue.add(old);
      return;
    }
    if (!this.o.logic.isTracked(pod.metadata?.annotations)) {
      // Annotation removed from a pod of a known workload: the pod stays
      // indexed (a workload with pods, none annotated, is one whose
      // annotation was removed, not one whose pods are restarting).
      this.unresolved.delete(podKey);
      const known = this.index.lookup(podKey);
      if (known) this.queue.add(known.key);
      return;
    }
    const w = await this.o.logic.resolveWorkload(pod, {
      replicaSet: (n, rs) => this.replicaSet(n, rs),
      job: (n, j) => this.o.api.read.getJob(n, j),
    });
    const key = this.o.logic.workloadKey(w);
    const old = this.index.set(podKey, key, WorkloadIndex.ownersOf(pod));
    this.unresolved.delete(podKey);
    if (old) this.queue.add(old);
    this.queue.add(key);
  }

  private async replicaSet(namespace: string, name: string): Promise<V1ReplicaSet | undefined> {
    const k = `${namespace}/${name}`;
    const hit = this.owners.get(k);
    const now = Date.now();
    if (hit && now - hit.at < OWNER_CACHE_MS) return hit.rs;
    const rs = await this.o.api.read.getReplicaSet(namespace, name);
    this.owners.set(k, { rs, at: now });
    return rs;
  }

  private enqueueNamespace(namespace: string): void {
    for (const key of this.allKeys()) if (key.startsWith(`${namespace}/`)) this.queue.add(key);
  }

  private async reconcile(key: string) {
    if (!this.leading) return { requeueAfterMs: 1000 };
    const ns = key.split('/')[0] ?? '';
    const end = this.o.metrics.reconcileDuration.startTimer();
    const followed = new Set<RefKey>();
    const refs: RefLookup = {
      secret: (n, name) => {
        followed.add(refKey(n, 'Secret', name));
        return this.secretData.get(n, name);
      },
      configMap: (n, name) => {
        followed.add(refKey(n, 'ConfigMap', name));
        return this.configMapData.get(n, name);
      },
    };
    try {
      return await reconcileWorkload(key, {
        config: this.o.config,
        logic: this.o.logic,
        api: this.o.api,
        podsOf: (k) => this.podsOf(k),
        services: {
          get: (n, s) => this.svcInformer(n)?.get(n, s),
          list: (n) => (n ? (this.svcInformer(n)?.list(n) ?? []) : []),
        },
        refs,
        cronJobs: this.cronJobs,
        secrets: this.secrets,
        events: this.events,
        log: this.o.log.child({ workload: key }),
        setState: (k, s) => this.setState(k, s),
        mayDelete: () => ![...this.unresolved].some((p) => p.startsWith(`${ns}/`)),
        deleted: this.deleted,
      });
    } finally {
      end();
      this.setRefs(key, followed);
    }
  }

  /** What the workload's last reconcile read; objects nobody reads any more are dropped. */
  private setRefs(key: string, followed: Set<RefKey>): void {
    for (const ref of this.refIndex.set(key, followed)) {
      const [n = '', kind, ...rest] = ref.split('/');
      const cache = kind === 'Secret' ? this.secretData : this.configMapData;
      cache.forget(n, rest.join('/'));
    }
  }

  private svcInformer(namespace: string): Informer<V1Service> | undefined {
    const i = this.o.config.watchNamespaces.indexOf(namespace);
    return i < 0 ? undefined : this.services[i];
  }

  private podsOf(key: string): V1Pod[] {
    const pods: V1Pod[] = [];
    for (const podKey of this.index.podsOf(key)) {
      const [ns = '', name = ''] = podKey.split('/');
      const pod = this.podInformer(ns)?.get(ns, name);
      if (pod && !pod.metadata?.deletionTimestamp) pods.push(pod);
    }
    return pods;
  }

  /** Counted as they change (not recounted over every workload at each reconcile). */
  private readonly stateCounts: Record<WorkloadState, number> = {
    scheduled: 0,
    suspended: 0,
    invalid: 0,
    no_service: 0,
    ambiguous_service: 0,
    missing_credentials: 0,
  };
  private statesPublished = false;

  private setState(key: string, state: WorkloadState | undefined): void {
    const old = this.states.get(key);
    if (old === state && this.statesPublished) return;
    if (old !== undefined) this.stateCounts[old]--;
    if (state === undefined) this.states.delete(key);
    else {
      this.states.set(key, state);
      this.stateCounts[state]++;
    }
    for (const [s, n] of Object.entries(this.stateCounts))
      this.o.metrics.workloads.set({ state: s }, n);
    this.statesPublished = true;
  }
}

/**
 * The workload an owned object belongs to: its workload annotation (the full
 * key), else its labels (objects written before the annotation existed).
 */
export function ownerKey(obj: V1PartialObjectMetadata): string | undefined {
  const annotated = obj.metadata?.annotations?.[WORKLOAD_ANNOTATION];
  if (annotated && /^[^/]+\/[^/]+\/.+$/.test(annotated)) return annotated;
  const l = obj.metadata?.labels ?? {};
  const ns = l[WORKLOAD_NAMESPACE_LABEL];
  const kind = l[WORKLOAD_KIND_LABEL];
  const name = l[WORKLOAD_NAME_LABEL];
  if (!ns || !kind || !name) return undefined;
  // A name longer than a label allows is stored cut with a hash suffix
  // (desired/labels.ts): it does not give the workload back, so such an
  // object is only ever matched through an indexed workload's objectName.
  if (name.length === 63 && /-[0-9a-f]{8}$/.test(name)) return undefined;
  return `${ns}/${kind}/${name}`;
}
