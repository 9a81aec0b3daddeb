import type { KubernetesObject, V1Service } from '@kubernetes/client-node';
import type { OperatorConfig } from '../config/operator.js';
import { objectName } from '../desired/names.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/registry.js';
import type { KubeApi, V1PartialObjectMetadata } from '../kube/api.js';
import type { DelayFn } from '../kube/informer.js';
import { ownerKey, parseWorkloadKey } from '../workload.js';
import { OperatorCaches } from './caches.js';
import { EventRecorder } from './events.js';
import { Leadership } from './leadership.js';
import { PodResolver } from './pod-resolver.js';
import { WorkQueue, type Schedule } from './queue.js';
import { refKey, type RefKey } from './refs.js';
import { Tombstones } from './cleanup.js';
import { reconcileWorkload } from './reconcile.js';
import { WorkloadStates } from './workload-states.js';

export interface ControllerOptions {
  config: OperatorConfig;
  api: KubeApi;
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

/**
 * The operator: informers → per-workload work queue → reconcile.
 *
 *   pods, Services (each watched namespace)          ┐
 *   Secret, ConfigMap metadata (each watched ns.)    │
 *   snapkeeper CronJobs, Secrets (control namespace) ┘→ caches (caches.ts)
 *   pod event → resolve its workload (pod-resolver.ts) → enqueue "ns/Kind/name"
 *   a referenced Secret/ConfigMap changes            → enqueue the workloads using it
 *   an owned CronJob/Secret changes or goes          → enqueue its workload (src/workload.ts)
 *   every resyncSeconds                              → enqueue every known workload
 *
 * Informers and owner resolution run on every replica (a standby is warm);
 * reconciles, and therefore writes, only on the leader (leadership.ts).
 */
export class Controller {
  readonly caches: OperatorCaches;
  readonly queue: WorkQueue;
  readonly resolver: PodResolver;
  readonly events: EventRecorder;
  readonly leadership: Leadership;
  private readonly states: WorkloadStates;
  private readonly deleted = new Tombstones();
  private resyncTimer: NodeJS.Timeout | undefined;
  private started = false;
  private syncedFlag = false;
  private shuttingDown = false;
  private signalShutdown!: () => void;
  private readonly shutdownRequested = new Promise<void>((r) => (this.signalShutdown = r));

  constructor(private readonly o: ControllerOptions) {
    const { config, api, log } = o;
    this.caches = new OperatorCaches(config, api, {
      log: log.child({ component: 'informer' }),
      ...(o.delay ? { delay: o.delay } : {}),
    });
    const caches = this.caches;
    this.states = new WorkloadStates(o.metrics.workloads);
    this.events = new EventRecorder({
      api: api.events,
      log,
      instance: config.podName,
      ...(o.eventWindowMs !== undefined ? { windowMs: o.eventWindowMs } : {}),
    });
    this.queue = new WorkQueue((key) => this.reconcile(key), {
      log,
      ...(o.schedule ? { schedule: o.schedule } : {}),
      concurrency: o.concurrency ?? RECONCILE_CONCURRENCY,
      onError: () => o.metrics.reconcileErrors.inc(),
    });
    this.resolver = new PodResolver({
      pods: (ns) => caches.podInformer(ns),
      read: api.read,
      enqueue: (key) => this.queue.add(key),
      log,
      concurrency: RECONCILE_CONCURRENCY,
      ...(o.schedule ? { schedule: o.schedule } : {}),
    });

    for (const inf of caches.pods) {
      inf.on({
        add: (pod) => this.resolver.onPod(pod),
        update: (_old, pod) => this.resolver.onPod(pod),
        delete: (pod) => this.resolver.onPodDeleted(pod),
      });
    }
    for (const inf of caches.services) {
      // A Service appearing, changing or going can fix or break any workload of its namespace.
      const requeue = (svc: V1Service) => this.enqueueNamespace(svc.metadata?.namespace ?? '');
      inf.on({ add: requeue, update: (_o, s) => requeue(s), delete: requeue });
    }
    for (const [kind, infs] of [
      ['Secret', caches.secretMeta],
      ['ConfigMap', caches.configMapMeta],
    ] as const) {
      // A referenced Secret or ConfigMap was created, changed or deleted:
      // reconcile the workloads that use it (a new password reaches the
      // mirrored Secret now, not at the next resync).
      const requeue = (o: KubernetesObject) => {
        const ref = refKey(o.metadata?.namespace ?? '', kind, o.metadata?.name ?? '');
        for (const key of caches.refIndex.workloadsUsing(ref)) this.queue.add(key);
      };
      for (const inf of infs)
        inf.on({ add: requeue, update: (_o, n) => requeue(n), delete: requeue });
    }
    for (const inf of [caches.cronJobs, caches.secrets]) {
      // Someone edited or deleted an object we own: reconcile its workload.
      const requeue = (obj: V1PartialObjectMetadata) => {
        const key = this.keyOfOwned(obj);
        if (key) this.queue.add(key);
      };
      inf.on({ update: (_o, n) => requeue(n), delete: requeue });
    }

    this.leadership = new Leadership({
      config,
      api: api.leases,
      log,
      ...(o.leaseDurationSeconds ? { leaseDurationSeconds: o.leaseDurationSeconds } : {}),
      ...(o.leaseRetryPeriodMs ? { leaseRetryPeriodMs: o.leaseRetryPeriodMs } : {}),
      ...(o.leaseRenewDeadlineMs ? { leaseRenewDeadlineMs: o.leaseRenewDeadlineMs } : {}),
      ...(o.delay ? { delay: o.delay } : {}),
      started: (stillLeading) => this.startLeading(stillLeading),
      stopped: () => this.stopLeading(),
    });
  }

  /** Ready: every cache has listed once and the initial pods are resolved. */
  isReady(): boolean {
    return this.syncedFlag;
  }

  isLeader(): boolean {
    return this.leadership.isLeader();
  }

  /** Start the informers; resolves once the caches are synced. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const informers = this.caches.informers;
    for (const inf of informers) inf.start();
    this.resolver.queue.start();
    await Promise.race([Promise.all(informers.map((i) => i.synced)), this.shutdownRequested]);
    if (this.shuttingDown) return;
    await this.resolver.queue.drained();
    if (this.shuttingDown) return;
    this.syncedFlag = true;
    this.o.log.info('caches synced', {
      pods: this.caches.pods.reduce((n, i) => n + i.list().length, 0),
      workloads: this.resolver.index.workloads().length,
    });
    this.resyncTimer = setInterval(() => this.resync(), this.o.config.resyncSeconds * 1000);
    this.resyncTimer.unref?.();
    await this.leadership.start();
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
    await this.leadership.stop(release);
    await Promise.all([this.queue.stop(), this.resolver.queue.stop()]);
    await Promise.all(this.caches.informers.map((i) => i.stop()));
    this.o.api.close();
  }

  /** Every known workload: tracked ones, and those with owned objects (for cleanup). */
  allKeys(): string[] {
    const keys = new Set(this.resolver.index.workloads());
    for (const obj of [...this.caches.cronJobs.list(), ...this.caches.secrets.list()]) {
      const key = this.keyOfOwned(obj);
      if (key) keys.add(key);
    }
    return [...keys];
  }

  resync(): void {
    for (const key of this.allKeys()) this.queue.add(key);
  }

  /** The workload of an owned object: its own (src/workload.ts), or an indexed workload of that object name. */
  private keyOfOwned(obj: V1PartialObjectMetadata): string | undefined {
    const key = ownerKey(obj);
    if (key) return key;
    const name = obj.metadata?.name;
    return this.resolver.index.workloads().find((k) => {
      const w = parseWorkloadKey(k);
      return w !== undefined && objectName(w) === name;
    });
  }

  private async startLeading(stillLeading: () => boolean): Promise<void> {
    // Learn which Events exist, so a new leader does not repeat them.
    await Promise.all(this.o.config.watchNamespaces.map((ns) => this.events.seed(ns)));
    if (!stillLeading()) return;
    this.resync();
    this.queue.start();
    this.o.leaderHooks?.started();
  }

  private stopLeading(): void {
    this.queue.pause();
    void this.o.leaderHooks?.stopped();
  }

  private enqueueNamespace(namespace: string): void {
    for (const key of this.allKeys()) {
      if (parseWorkloadKey(key)?.namespace === namespace) this.queue.add(key);
    }
  }

  private async reconcile(key: string) {
    if (!this.isLeader()) return { requeueAfterMs: 1000 };
    const ns = parseWorkloadKey(key)?.namespace ?? '';
    const end = this.o.metrics.reconcileDuration.startTimer();
    const followed = new Set<RefKey>();
    const { caches } = this;
    try {
      return await reconcileWorkload(key, {
        config: this.o.config,
        api: this.o.api,
        podsOf: (k) => this.resolver.podsOf(k),
        services: {
          get: (n, s) => caches.serviceInformer(n)?.get(n, s),
          list: (n) => (n ? (caches.serviceInformer(n)?.list(n) ?? []) : []),
        },
        refs: caches.refs(followed),
        cronJobs: caches.cronJobs,
        secrets: caches.secrets,
        events: this.events,
        log: this.o.log.child({ workload: key }),
        setState: (k, s) => this.states.set(k, s),
        mayDelete: () => !this.resolver.resolving(ns),
        deleted: this.deleted,
      });
    } finally {
      end();
      caches.setRefs(key, followed);
    }
  }
}
