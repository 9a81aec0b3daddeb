// The operator's CronJob cache, which the status controller shares: what it
// keeps of each CronJob (metadata, and of the spec only what the missed-run
// check reads), and that a watch's error objects reach the informer as the
// apiserver sent them (a 410 must still read as 410).
import { describe, expect, it } from 'vitest';
import type { V1CronJob } from '@kubernetes/client-node';
import { cachedCronJob, viewOf } from '../../src/controller/caches.js';
import type { ListWatchSource, WatchEvent } from '../../src/kube/api.js';
import { statusCode } from '../../src/kube/errors.js';

const cronJob: V1CronJob = {
  apiVersion: 'batch/v1',
  kind: 'CronJob',
  metadata: {
    name: 'shop-postgres',
    namespace: 'snapkeeper',
    resourceVersion: '7',
    labels: { 'app.kubernetes.io/managed-by': 'snapkeeper' },
    annotations: { 'snapkeeper.io/spec-hash': 'h1', 'snapkeeper.io/last-success': 'x' },
  },
  spec: {
    schedule: '0 3 * * *',
    timeZone: 'Etc/UTC',
    suspend: true,
    jobTemplate: { spec: { template: { spec: { containers: [{ name: 'dump', image: 'i' }] } } } },
  },
};

describe('cachedCronJob', () => {
  it('given a whole CronJob, then its metadata and schedule, timeZone, suspend; no job template', () => {
    expect(cachedCronJob(structuredClone(cronJob))).toEqual({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: cronJob.metadata,
      spec: { schedule: '0 3 * * *', timeZone: 'Etc/UTC', suspend: true },
    });
  });

  it('given a CronJob without the optional fields, then none are invented', () => {
    const { timeZone: _t, suspend: _s, ...spec } = structuredClone(cronJob.spec!);
    expect(cachedCronJob({ metadata: cronJob.metadata, spec }).spec).toEqual({
      schedule: '0 3 * * *',
    });
  });
});

describe('viewOf', () => {
  it('given a list and watch events, then each object is the view, and an ERROR passes as it is', async () => {
    const events: WatchEvent<V1CronJob>[] = [
      { type: 'MODIFIED', object: cronJob },
      {
        type: 'ERROR',
        object: { kind: 'Status', code: 410, message: 'too old' } as unknown as V1CronJob,
      },
    ];
    const source: ListWatchSource<V1CronJob> = {
      description: 'cronjobs',
      list: async () => ({ items: [cronJob], resourceVersion: '9' }),
      async watch(_rv, onEvent) {
        for (const e of events) onEvent(structuredClone(e));
        return () => {};
      },
    };
    const view = viewOf(source, cachedCronJob);

    const list = await view.list();
    expect(list.resourceVersion).toBe('9');
    expect(list.items[0]?.spec).toEqual({
      schedule: '0 3 * * *',
      timeZone: 'Etc/UTC',
      suspend: true,
    });

    const seen: WatchEvent<unknown>[] = [];
    await view.watch(
      '9',
      (e) => seen.push(e),
      () => {},
    );
    expect(seen[0]).toMatchObject({
      type: 'MODIFIED',
      object: { spec: { schedule: '0 3 * * *' } },
    });
    expect(seen[0]?.object).not.toHaveProperty('spec.jobTemplate');
    expect(seen[1]?.type).toBe('ERROR');
    expect(statusCode(seen[1]?.object)).toBe(410);
  });
});
