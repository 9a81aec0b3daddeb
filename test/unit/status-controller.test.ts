// The status controller over in-memory fakes of its narrow dependencies: the
// flow (Event, annotations, metrics), restart without double counting, 409
// retries and the missed-schedule check. The same flow against the real
// apiserver is test/kube/status-controller.test.ts.
import type { MeteredWorkload } from '../../src/status/workload.js';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { V1CronJob, V1Job, V1Pod } from '@kubernetes/client-node';
import { createMetrics } from '../../src/metrics/registry.js';
import { createLogger } from '../../src/log.js';
import type { ListWatchSource, MetadataPatcher, WatchEvent } from '../../src/kube/api.js';
import type { StatusApi, StatusControllerDeps } from '../../src/status/controller.js';
import {
  startStatusController,
  type StatusController,
  type StatusEventSink,
} from '../../src/status/controller.js';
import { resultEvent, shrankEvent } from '../../src/status/record.js';
import { StatusWhileLeading } from '../../src/status/while-leading.js';
import { Informer } from '../../src/kube/informer.js';
import { SOURCE_POD_ANNOTATION, STATUS_ANNOTATIONS as A } from '../../src/labels.js';

const NS = 'snapkeeper';
const log = createLogger({
  level: process.env.TLOG ? 'debug' : 'error',
  format: 'text',
  ...(process.env.TLOG ? {} : { write: () => {} }),
});

class FakeSource<
  T extends { metadata?: { name?: string; namespace?: string } },
> implements ListWatchSource<T> {
  readonly description = 'fake';
  private listeners: Array<(e: WatchEvent<T>) => void> = [];
  constructor(public items: T[]) {}
  async list() {
    return { items: this.items.map((i) => structuredClone(i)), resourceVersion: '1' };
  }
  async watch(_rv: string, onEvent: (e: WatchEvent<T>) => void, onDone: (err: unknown) => void) {
    this.listeners.push(onEvent);
    // Like the real watch: aborting it ends it.
    return () => {
      this.listeners = this.listeners.filter((l) => l !== onEvent);
      onDone(null);
    };
  }
  emit(type: WatchEvent<T>['type'], object: T) {
    for (const l of this.listeners) l({ type, object: structuredClone(object) });
  }
}

function cronJob(created = '2026-11-19T12:00:00Z'): V1CronJob {
  return {
    metadata: {
      name: 'shop-postgres',
      namespace: NS,
      uid: 'cj-uid',
      resourceVersion: '10',
      creationTimestamp: new Date(created),
      labels: {
        'app.kubernetes.io/managed-by': 'snapkeeper',
        'snapkeeper.io/workload-namespace': 'shop',
        'snapkeeper.io/workload-name': 'postgres',
        'snapkeeper.io/workload-kind': 'Deployment',
        'snapkeeper.io/type': 'postgresql',
      },
      annotations: {
        [SOURCE_POD_ANNOTATION]: 'shop/postgres-abc',
        'snapkeeper.io/spec-hash': 'h1',
      },
    },
    spec: { schedule: '0 3 * * *', timeZone: 'Etc/UTC', jobTemplate: { spec: { template: {} } } },
  };
}

function job(name: string, uid: string, outcome: 'Complete' | 'Failed'): V1Job {
  return {
    metadata: {
      name,
      uid,
      namespace: NS,
      ownerReferences: [
        { apiVersion: 'batch/v1', kind: 'CronJob', name: 'shop-postgres', uid: 'cj-uid' },
      ],
    },
    status: {
      startTime: new Date('2026-11-20T03:00:00Z'),
      conditions: [
        { type: outcome, status: 'True', lastTransitionTime: new Date('2026-11-20T03:00:20Z') },
      ],
    },
  };
}

function pod(jobUid: string, message: string, exitCode: number): V1Pod {
  return {
    metadata: {
      name: `${jobUid}-pod`,
      namespace: NS,
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'x', uid: jobUid }],
    },
    status: {
      containerStatuses: [
        {
          name: 'dump',
          image: 'i',
          imageID: '',
          ready: false,
          restartCount: 0,
          state: { terminated: { exitCode, message } },
        },
      ],
    },
  };
}

const OK = JSON.stringify({
  ok: true,
  manifestKey: 'shop/postgres/20261120T030000Z/manifest.json',
  bytes: 2048,
  durationSeconds: 7.5,
  finishedAt: '2026-11-20T03:00:10Z',
});
const SHRANK_SENTENCE =
  'the backup shrank: 1000 rows fewer (1010 → 10, -99%); tables gone: app: public.orders';
const SHRANK = JSON.stringify({ ...JSON.parse(OK), shrank: SHRANK_SENTENCE });
const FAIL = JSON.stringify({
  ok: false,
  error: 'pg_dump exited with code 1: FATAL: password authentication failed',
  durationSeconds: 0.5,
  finishedAt: '2026-11-21T03:00:01Z',
});

class FakeApi implements StatusApi {
  patches = 0;
  conflictsToThrow = 0;
  cronJobs = new Map<string, V1CronJob>();
  pods: V1Pod[] = [];
  sourcePod: V1Pod = { metadata: { name: 'postgres-abc', namespace: 'shop', uid: 'pod-uid' } };
  async getCronJob(_ns: string, name: string) {
    const c = this.cronJobs.get(name);
    return c ? structuredClone(c) : undefined;
  }
  // The merge patch src/apply's patchAnnotations sends, as the apiserver answers it.
  readonly cronJobPatcher: MetadataPatcher<V1CronJob> = {
    kind: 'CronJob',
    patchMetadata: (_ns, name, { resourceVersion, annotations }) =>
      this.patch(name, resourceVersion, annotations),
  };
  private async patch(name: string, rv: string | undefined, patch: Record<string, string | null>) {
    const c = this.cronJobs.get(name)!;
    if (this.conflictsToThrow > 0 || rv !== c.metadata!.resourceVersion) {
      this.conflictsToThrow--;
      c.metadata!.resourceVersion = String(Number(c.metadata!.resourceVersion) + 1);
      throw Object.assign(new Error('Conflict'), { code: 409 });
    }
    this.patches++;
    const a = { ...(c.metadata!.annotations ?? {}) };
    for (const [k, v] of Object.entries(patch)) {
      if (v === null) delete a[k];
      else a[k] = v;
    }
    c.metadata!.annotations = a;
    c.metadata!.resourceVersion = String(Number(c.metadata!.resourceVersion) + 1);
    return structuredClone(c);
  }
  async listJobPods(j: V1Job) {
    return this.pods.filter((p) => p.metadata?.ownerReferences?.[0]?.uid === j.metadata?.uid);
  }
  async getPod() {
    return this.sourcePod;
  }
}

class Events implements StatusEventSink {
  recorded: Array<{ pod: string; type: string; reason: string; message: string }> = [];
  async record(pod: V1Pod, type: 'Normal' | 'Warning', reason: string, message: string) {
    this.recorded.push({
      pod: `${pod.metadata?.namespace}/${pod.metadata?.name}`,
      type,
      reason,
      message,
    });
  }
}

function start(
  api: FakeApi,
  jobs: FakeSource<V1Job>,
  events: Events,
  now = new Date('2026-11-20T12:00:00Z'),
) {
  const metrics = createMetrics(new Registry());
  const cronJobs = new FakeSource<V1CronJob>([...api.cronJobs.values()]);
  // The operator's CronJob cache, which the controller shares and does not stop.
  const cache = sharedCache(cronJobs);
  const started = startStatusController(
    depsOf(api, cache, metrics, {
      jobs,
      events,
      now: () => now,
      schedule: (fn, ms) => {
        const t = setTimeout(fn, Math.min(ms, 5));
        return () => clearTimeout(t);
      },
    }),
  );
  const ctl: StatusController = {
    ...started,
    async stop() {
      await started.stop();
      await cache.stop();
    },
  };
  return { ctl, metrics, cronJobs };
}

/** What a status controller takes here: no Jobs, no missed-run grace to speak of, noon on 20 Nov. */
function depsOf(
  api: FakeApi,
  cronJobs: Informer<V1CronJob>,
  metrics: ReturnType<typeof createMetrics>,
  over: Partial<StatusControllerDeps> = {},
): StatusControllerDeps {
  return {
    namespace: NS,
    jobs: new FakeSource<V1Job>([]),
    cronJobs,
    api,
    events: new Events(),
    metrics,
    log,
    missedGraceSeconds: 3600,
    now: () => new Date('2026-11-20T12:00:00Z'),
    ...over,
  };
}

/** An informer over the source, started: the cache the operator would share. */
function sharedCache(source: FakeSource<V1CronJob>): Informer<V1CronJob> {
  const cache = new Informer(source, { log });
  cache.start();
  return cache;
}

async function settle(ctl: { synced: Promise<void>; drained(): Promise<void> }) {
  await ctl.synced;
  await ctl.drained();
  await new Promise((r) => setTimeout(r, 20));
  await ctl.drained();
}

async function value(
  metrics: ReturnType<typeof createMetrics>,
  name: keyof ReturnType<typeof createMetrics>,
  labels: Record<string, string>,
) {
  const m = metrics[name] as {
    get(): Promise<{ values: Array<{ labels: Record<string, unknown>; value: number }> }>;
  };
  const all = (await m.get()).values;
  return all.find((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x))?.value;
}

const L = { namespace: 'shop', workload: 'postgres', type: 'postgresql' };

/**
 * A restart: the status controller started again, with a fresh registry,
 * over the same cluster state (the finished Job shop-postgres-1 of pod j1),
 * and settled.
 */
async function restartWithSameJob(api: FakeApi, events: Events) {
  const again = start(
    api,
    new FakeSource<V1Job>([job('shop-postgres-1', 'j1', 'Complete')]),
    events,
  );
  await settle(again.ctl);
  return again;
}

describe('status controller', () => {
  it('given a finished successful Job, then an Event, the annotations and the metrics; after a restart the same, without double counting', async () => {
    const api = new FakeApi();
    api.cronJobs.set('shop-postgres', cronJob());
    api.pods.push(pod('j1', OK, 0));
    const jobs = new FakeSource<V1Job>([job('shop-postgres-1', 'j1', 'Complete')]);
    const events = new Events();
    const { ctl, metrics } = start(api, jobs, events);
    await settle(ctl);

    expect(events.recorded).toEqual([
      {
        pod: 'shop/postgres-abc',
        type: 'Normal',
        reason: 'BackupSucceeded',
        message:
          'backup of shop/postgres succeeded: 2.0 KiB in 7.5s (job shop-postgres-1, shop/postgres/20261120T030000Z/manifest.json)',
      },
    ]);
    const a = api.cronJobs.get('shop-postgres')!.metadata!.annotations!;
    expect(a).toMatchObject({
      [A.lastSuccess]: '2026-11-20T03:00:10.000Z',
      [A.lastSize]: '2048',
      [A.runsSucceeded]: '1',
      'snapkeeper.io/spec-hash': 'h1',
    });
    expect(await value(metrics, 'backupLastSuccess', L)).toBe(
      Date.parse('2026-11-20T03:00:10Z') / 1000,
    );
    expect(await value(metrics, 'backupLastSize', L)).toBe(2048);
    expect(await value(metrics, 'backupLastDuration', L)).toBe(7.5);
    expect(await value(metrics, 'backupRuns', { ...L, result: 'success' })).toBe(1);
    expect(await value(metrics, 'backupRuns', { ...L, result: 'failure' })).toBe(0);
    // Exported from 0, so increase() sees the first shrink.
    expect(await value(metrics, 'backupShrank', L)).toBe(0);
    await ctl.stop();

    const again = await restartWithSameJob(api, events);
    expect(events.recorded).toHaveLength(1);
    expect(api.patches).toBe(1);
    expect(await value(again.metrics, 'backupRuns', { ...L, result: 'success' })).toBe(1);
    expect(await value(again.metrics, 'backupLastSize', L)).toBe(2048);
    await again.ctl.stop();
  });

  it('given a successful Job that shrank, then BackupSucceeded and a BackupShrank Warning, counted once, also after a restart', async () => {
    const api = new FakeApi();
    api.cronJobs.set('shop-postgres', cronJob());
    api.pods.push(pod('j1', SHRANK, 0));
    const events = new Events();
    const { ctl, metrics } = start(
      api,
      new FakeSource<V1Job>([job('shop-postgres-1', 'j1', 'Complete')]),
      events,
    );
    await settle(ctl);

    expect(events.recorded).toEqual([
      {
        pod: 'shop/postgres-abc',
        type: 'Normal',
        reason: 'BackupSucceeded',
        message:
          'backup of shop/postgres succeeded: 2.0 KiB in 7.5s (job shop-postgres-1, shop/postgres/20261120T030000Z/manifest.json)',
      },
      {
        pod: 'shop/postgres-abc',
        type: 'Warning',
        reason: 'BackupShrank',
        message: `${SHRANK_SENTENCE} (job shop-postgres-1)`,
      },
    ]);
    expect(api.cronJobs.get('shop-postgres')!.metadata!.annotations).toMatchObject({
      [A.lastResult]: 'success',
      [A.runsSucceeded]: '1',
      [A.runsShrank]: '1',
      [A.lastShrank]: SHRANK_SENTENCE,
    });
    expect(await value(metrics, 'backupShrank', L)).toBe(1);
    expect(await value(metrics, 'backupRuns', { ...L, result: 'success' })).toBe(1);
    expect(await value(metrics, 'backupRuns', { ...L, result: 'failure' })).toBe(0);
    await ctl.stop();

    const again = await restartWithSameJob(api, events);
    expect(events.recorded).toHaveLength(2);
    expect(api.patches).toBe(1);
    expect(await value(again.metrics, 'backupShrank', L)).toBe(1);
    await again.ctl.stop();
  });

  it('given a failed Job arriving by watch and a conflict on the first patch, then one BackupFailed and one failure counted', async () => {
    const api = new FakeApi();
    api.cronJobs.set('shop-postgres', cronJob());
    api.conflictsToThrow = 1;
    const jobs = new FakeSource<V1Job>([]);
    const events = new Events();
    // Before the first scheduled run: nothing is missed yet.
    const { ctl, metrics } = start(api, jobs, events, new Date('2026-11-19T20:00:00Z'));
    await settle(ctl);
    api.pods.push(pod('j2', FAIL, 1));
    jobs.emit('ADDED', job('shop-postgres-2', 'j2', 'Failed'));
    await settle(ctl);

    expect(events.recorded.map((e) => [e.type, e.reason])).toEqual([
      ['Warning', 'BackupFailed'],
      ['Warning', 'BackupFailed'], // the retry after the 409; the real recorder deduplicates it
    ]);
    expect(events.recorded[0]!.message).toContain('password authentication failed');
    expect(api.patches).toBe(1);
    expect(api.cronJobs.get('shop-postgres')!.metadata!.annotations).toMatchObject({
      [A.lastResult]: 'failure',
      [A.runsFailed]: '1',
      [A.lastError]: expect.stringContaining('password authentication failed'),
    });
    expect(await value(metrics, 'backupRuns', { ...L, result: 'failure' })).toBe(1);
    expect(await value(metrics, 'backupLastSuccess', L)).toBeUndefined();
    await ctl.stop();
  });

  it('given a CronJob that never succeeded past its first run and grace, then missed=1 and one BackupMissed Event', async () => {
    const api = new FakeApi();
    api.cronJobs.set('shop-postgres', cronJob('2026-11-19T12:00:00Z'));
    const events = new Events();
    // First run 2026-11-20T03:00Z, grace 1h: missed from 04:00.
    const { ctl, metrics } = start(
      api,
      new FakeSource<V1Job>([]),
      events,
      new Date('2026-11-20T04:30:00Z'),
    );
    await settle(ctl);
    await ctl.checkMissed();
    expect(await value(metrics, 'backupMissed', L)).toBe(1);
    expect(events.recorded.filter((e) => e.reason === 'BackupMissed')).toHaveLength(1);
    expect(events.recorded[0]!.message).toContain('the run due at 2026-11-20T03:00:00.000Z');
    await ctl.stop();
  });

  it('given a recent success, then missed=0 and no Event', async () => {
    const api = new FakeApi();
    const cj = cronJob();
    cj.metadata!.annotations![A.lastSuccess] = '2026-11-20T03:00:10Z';
    api.cronJobs.set('shop-postgres', cj);
    const events = new Events();
    const { ctl, metrics } = start(
      api,
      new FakeSource<V1Job>([]),
      events,
      new Date('2026-11-20T20:00:00Z'),
    );
    await settle(ctl);
    expect(await value(metrics, 'backupMissed', L)).toBe(0);
    expect(await value(metrics, 'backupLastSuccess', L)).toBe(
      Date.parse('2026-11-20T03:00:10Z') / 1000,
    );
    expect(events.recorded).toEqual([]);
    await ctl.stop();
  });
});

describe('StatusWhileLeading', () => {
  it('starts one controller per term, and a lost term drops the backup series until the next one restores them', async () => {
    const api = new FakeApi();
    const cj = cronJob();
    cj.metadata!.annotations![A.lastSuccess] = '2026-11-20T03:00:10Z';
    cj.metadata!.annotations![A.runsSucceeded] = '4';
    cj.metadata!.annotations![A.runsShrank] = '2';
    api.cronJobs.set('shop-postgres', cj);
    const metrics = createMetrics(new Registry());
    const cache = sharedCache(new FakeSource<V1CronJob>([cj]));
    const started: StatusController[] = [];
    const lifecycle = new StatusWhileLeading(depsOf(api, cache, metrics), (deps) => {
      const c = startStatusController(deps);
      started.push(c);
      return c;
    });
    lifecycle.started();
    lifecycle.started();
    expect(started).toHaveLength(1);
    await settle(started[0]!);
    expect(await value(metrics, 'backupRuns', { ...L, result: 'success' })).toBe(4);
    expect(await value(metrics, 'backupShrank', L)).toBe(2);

    await lifecycle.stopped();
    expect(await value(metrics, 'backupRuns', { ...L, result: 'success' })).toBeUndefined();
    expect(await value(metrics, 'backupShrank', L)).toBeUndefined();
    expect(await value(metrics, 'backupLastSuccess', L)).toBeUndefined();

    lifecycle.started();
    expect(started).toHaveLength(2);
    await settle(started[1]!);
    expect(await value(metrics, 'backupRuns', { ...L, result: 'success' })).toBe(4);
    expect(await value(metrics, 'backupShrank', L)).toBe(2);
    await lifecycle.stopped();
    await cache.stop();
  });
});

describe('StatusWhileLeading over the shared CronJob cache', () => {
  it('given a term that ended, then changes in the shared cache no longer reach its controller', async () => {
    const api = new FakeApi();
    const cj = cronJob();
    cj.metadata!.annotations![A.runsSucceeded] = '4';
    api.cronJobs.set('shop-postgres', cj);
    const metrics = createMetrics(new Registry());
    const source = new FakeSource<V1CronJob>([cj]);
    const cache = sharedCache(source);
    const lifecycle = new StatusWhileLeading(depsOf(api, cache, metrics));
    lifecycle.started();
    await settle(lifecycle.controller!);
    expect(await value(metrics, 'backupRuns', { ...L, result: 'success' })).toBe(4);
    await lifecycle.stopped();

    // Another writer raises the record while this replica no longer leads.
    const changed = structuredClone(cj);
    changed.metadata!.resourceVersion = '11';
    changed.metadata!.annotations![A.runsSucceeded] = '5';
    source.emit('MODIFIED', changed);
    await new Promise((r) => setTimeout(r, 20));

    // The cache (kept by the operator on every replica) has it; no series came back.
    expect(cache.get(NS, 'shop-postgres')?.metadata?.resourceVersion).toBe('11');
    expect(await value(metrics, 'backupRuns', { ...L, result: 'success' })).toBeUndefined();
    await cache.stop();
  });

  it('given the shared cache has not listed yet, then synced waits for it', async () => {
    const api = new FakeApi();
    api.cronJobs.set('shop-postgres', cronJob());
    let release!: () => void;
    const listed = new Promise<void>((r) => (release = r));
    class SlowSource extends FakeSource<V1CronJob> {
      override async list() {
        await listed;
        return super.list();
      }
    }
    const cache = sharedCache(new SlowSource([cronJob()]));
    const ctl = startStatusController(
      depsOf(api, cache, createMetrics(new Registry()), { now: undefined }),
    );
    let synced = false;
    void ctl.synced.then(() => (synced = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(synced).toBe(false);

    release();
    await ctl.synced;
    expect(cache.hasSynced()).toBe(true);
    await ctl.stop();
    await cache.stop();
  });
});

describe('resultEvent', () => {
  const w: MeteredWorkload = {
    namespace: 'shop',
    name: 'db',
    kind: 'Deployment',
    type: 'postgresql',
  };
  const base = { jobName: 'j', jobUid: 'u', finishedAt: new Date(0) };
  it.each([
    [
      { ok: true, bytes: 5 * 1024 * 1024, durationSeconds: 75, key: 'k/manifest.json' },
      'Normal',
      'BackupSucceeded',
      'backup of shop/db succeeded: 5.0 MiB in 1m15s (job j, k/manifest.json)',
    ],
    [
      { ok: true, durationSeconds: 20, reason: 'no termination message' },
      'Normal',
      'BackupSucceeded',
      'backup of shop/db succeeded: in 20s (job j, no termination message)',
    ],
    [{ ok: true }, 'Normal', 'BackupSucceeded', 'backup of shop/db succeeded (job j)'],
    [
      { ok: false, reason: 'dumper exited with code 137 (OOMKilled)' },
      'Warning',
      'BackupFailed',
      'backup of shop/db failed: dumper exited with code 137 (OOMKilled) (job j)',
    ],
  ])('%j', (r, type, reason, message) => {
    expect(resultEvent(w, { ...base, ...r })).toEqual({ type, reason, message });
  });
});

describe('shrankEvent', () => {
  const base = { jobName: 'j', jobUid: 'u', finishedAt: new Date(0) };
  it('given a success that shrank, then a Warning with the dumper’s sentence; otherwise none', () => {
    expect(shrankEvent({ ...base, ok: true, shrank: 'the backup shrank: x' })).toEqual({
      type: 'Warning',
      reason: 'BackupShrank',
      message: 'the backup shrank: x (job j)',
    });
    expect(shrankEvent({ ...base, ok: true })).toBeUndefined();
    expect(shrankEvent({ ...base, ok: false, shrank: 'the backup shrank: x' })).toBeUndefined();
  });
});
