import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { EventRecorder } from '../../src/controller/events.js';
import type { EventApi } from '../../src/kube/api.js';
import { createLogger } from '../../src/log.js';

const pod: V1Pod = { metadata: { name: 'pg-0', namespace: 'shop', uid: 'u1' } };

function fakeApi(existing: CoreV1Event[] = []) {
  const store = new Map<string, CoreV1Event>();
  const calls: string[] = [];
  const api: EventApi = {
    create: async (_ns, ev) => {
      calls.push('create');
      if (store.has(ev.metadata!.name!)) throw Object.assign(new Error('exists'), { code: 409 });
      store.set(ev.metadata!.name!, ev);
      return ev;
    },
    get: async (_ns, name) => store.get(name),
    replace: async (_ns, ev) => {
      calls.push('replace');
      store.set(ev.metadata!.name!, ev);
      return ev;
    },
    list: async () => existing,
  };
  return { api, store, calls };
}

describe('EventRecorder', () => {
  it('given the same event twice within the window, then it writes once', async () => {
    const { api, calls, store } = fakeApi();
    const r = new EventRecorder({ api, log: createLogger({ write: () => {} }), instance: 'i' });
    await r.record(pod, 'Warning', 'NoService', 'no Service selects the pods');
    await r.record(pod, 'Warning', 'NoService', 'no Service selects the pods');
    expect(calls).toEqual(['create']);
    const ev = [...store.values()][0]!;
    expect(ev.involvedObject).toMatchObject({ kind: 'Pod', name: 'pg-0', uid: 'u1' });
    expect(ev.reportingComponent).toBe('snapkeeper');
  });

  it('given a different message, then it is a new event', async () => {
    const { api, calls } = fakeApi();
    const r = new EventRecorder({ api, log: createLogger({ write: () => {} }), instance: 'i' });
    await r.record(pod, 'Warning', 'InvalidAnnotation', 'a');
    await r.record(pod, 'Warning', 'InvalidAnnotation', 'b');
    expect(calls).toEqual(['create', 'create']);
  });

  it('given the window has passed, then the same event counts up instead of duplicating', async () => {
    const { api, calls, store } = fakeApi();
    let now = 0;
    const r = new EventRecorder({
      api,
      log: createLogger({ write: () => {} }),
      instance: 'i',
      windowMs: 1000,
      now: () => new Date(now),
    });
    await r.record(pod, 'Normal', 'BackupScheduled', 'm');
    now = 1500;
    await r.record(pod, 'Normal', 'BackupScheduled', 'm');
    expect(calls).toEqual(['create', 'create', 'replace']);
    expect(store.size).toBe(1);
    expect([...store.values()][0]!.count).toBe(2);
  });

  it('given events a previous process wrote, when seeded, then they are not written again', async () => {
    const existing: CoreV1Event[] = [
      {
        metadata: { name: 'x' },
        involvedObject: { uid: 'u1' },
        type: 'Warning',
        reason: 'NoService',
        message: 'm',
        lastTimestamp: new Date(),
      },
    ];
    const { api, calls } = fakeApi(existing);
    const r = new EventRecorder({ api, log: createLogger({ write: () => {} }), instance: 'i' });
    await r.seed('shop');
    await r.record(pod, 'Warning', 'NoService', 'm');
    expect(calls).toEqual([]);
  });
});
