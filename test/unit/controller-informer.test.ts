import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ListWatchSource, WatchEvent } from '../../src/kube/api.js';
import { Informer } from '../../src/kube/informer.js';
import { createLogger } from '../../src/log.js';

const pod = (name: string, rv: string): V1Pod => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
});

type Step =
  | { kind: 'list'; items: V1Pod[]; rv: string }
  | { kind: 'watch'; events?: WatchEvent<V1Pod>[]; end: unknown };

/** A source that plays a script of lists and watches, recording what was asked. */
function scripted(steps: Step[]) {
  const asked: string[] = [];
  const source: ListWatchSource<V1Pod> = {
    description: 'pods ns',
    async list() {
      const s = steps.shift();
      if (!s || s.kind !== 'list') throw new Error(`unexpected list (next: ${s?.kind})`);
      asked.push(`list`);
      return { items: s.items, resourceVersion: s.rv };
    },
    async watch(rv, onEvent, onDone) {
      const s = steps.shift();
      asked.push(`watch@${rv}`);
      if (!s || s.kind !== 'watch') {
        // Script over: stay connected until aborted.
        return () => onDone(null);
      }
      setTimeout(() => {
        for (const e of s.events ?? []) onEvent(e);
        onDone(s.end);
      }, 0);
      return () => {};
    },
  };
  return { source, asked };
}

describe('Informer', () => {
  it('given failures with a jittered backoff, then each reconnect waits its delay less the drawn share of it', async () => {
    const delays: number[] = [];
    const fail = {
      kind: 'watch' as const,
      end: Object.assign(new Error('boom'), { statusCode: 500 }),
    };
    const { source, asked } = scripted([{ kind: 'list', items: [], rv: '1' }, fail, fail, fail]);
    const draws = [0, 0.5, 0.999999];
    const inf = new Informer(source, {
      log: createLogger({ write: () => {} }),
      delay: async (ms) => void delays.push(ms),
      backoff: { initialMs: 100, maxMs: 1000, jitter: 0.5 },
      random: () => draws.shift() ?? 0,
    });
    inf.start();
    await inf.synced;
    for (let i = 0; i < 50 && asked.length < 5; i++) await new Promise((r) => setTimeout(r, 5));
    await inf.stop();
    expect(asked).toEqual(['list', 'watch@1', 'watch@1', 'watch@1', 'watch@1']);
    expect(delays).toEqual([100, 150, 200]);
  });

  it('given a dropped watch, a 500 and a 410, then it re-watches, backs off, and re-lists, telling handlers about deletions', async () => {
    const delays: number[] = [];
    const { source, asked } = scripted([
      { kind: 'list', items: [pod('a', '1'), pod('b', '2')], rv: '10' },
      {
        kind: 'watch',
        events: [{ type: 'MODIFIED', object: pod('a', '11') }],
        end: Object.assign(new Error('reset'), { code: 'ECONNRESET' }),
      },
      {
        kind: 'watch',
        end: Object.assign(new Error('Internal Server Error'), { statusCode: 500 }),
      },
      {
        kind: 'watch',
        events: [{ type: 'ERROR', object: { code: 410, message: 'too old' } as never }],
        end: null,
      },
      { kind: 'list', items: [pod('a', '11'), pod('c', '20')], rv: '30' },
    ]);
    const seen: string[] = [];
    const inf = new Informer(source, {
      log: createLogger({ write: () => {} }),
      delay: async (ms) => void delays.push(ms),
      backoff: { initialMs: 100, maxMs: 1000 },
    });
    inf.on({
      add: (p) => seen.push(`add ${p.metadata!.name}`),
      update: (_o, p) => seen.push(`update ${p.metadata!.name}@${p.metadata!.resourceVersion}`),
      delete: (p) => seen.push(`delete ${p.metadata!.name}`),
    });
    inf.start();
    await inf.synced;
    for (let i = 0; i < 50 && !asked.includes('watch@30'); i++)
      await new Promise((r) => setTimeout(r, 5));
    await inf.stop();

    expect(asked).toEqual(['list', 'watch@10', 'watch@11', 'watch@11', 'list', 'watch@30']);
    expect(delays).toEqual([100, 200]); // the reset and the 500; the 410 re-lists at once
    expect(seen).toEqual(['add a', 'add b', 'update a@11', 'add c', 'delete b']);
    expect(
      inf
        .list()
        .map((p) => p.metadata!.name)
        .sort(),
    ).toEqual(['a', 'c']);
  });
});

describe('Informer stop', () => {
  it('given stop while the watch request is still being answered, then stop returns at once and the watch is cancelled when it arrives', async () => {
    let answer!: () => void;
    let cancelled = false;
    const source: ListWatchSource<V1Pod> = {
      description: 'pods ns',
      list: async () => ({ items: [], resourceVersion: '1' }),
      // The response headers come late (a loaded apiserver); once open, the
      // stream ends only when cancelled.
      watch: (_rv, _onEvent, onDone) =>
        new Promise((resolve) => {
          answer = () =>
            resolve(() => {
              cancelled = true;
              onDone(null);
            });
        }),
    };
    const inf = new Informer(source, { log: createLogger({ write: () => {} }) });
    inf.start();
    await inf.synced;
    await new Promise((r) => setTimeout(r, 10)); // the watch request is on its way

    const stopped = inf.stop().then(() => 'stopped');
    const waited = new Promise((r) => setTimeout(() => r('still waiting'), 1000));
    expect(await Promise.race([stopped, waited])).toBe('stopped');

    answer();
    await new Promise((r) => setTimeout(r, 10));
    expect(cancelled).toBe(true);
  });
});
