import type { KubernetesObject, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { ListWatchSource, WatchEvent } from '../../src/kube/api.js';
import { Informer } from '../../src/kube/informer.js';
import { RefCache, RefIndex } from '../../src/controller/refs.js';
import { createLogger } from '../../src/log.js';

const meta = (name: string, rv: string): KubernetesObject => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv },
});

/** A metadata informer whose watch events the test pushes. */
async function metadataInformer(items: KubernetesObject[]) {
  let push: (e: WatchEvent<KubernetesObject>) => void = () => {};
  const source: ListWatchSource<KubernetesObject> = {
    description: 'secrets ns (metadata)',
    list: async () => ({ items, resourceVersion: '1' }),
    async watch(_rv, onEvent, onDone) {
      push = onEvent;
      return () => onDone(null);
    },
  };
  const inf = new Informer(source, { log: createLogger({ write: () => {} }) });
  inf.start();
  await inf.synced;
  await new Promise((r) => setTimeout(r, 0)); // the watch is open
  return { inf, push: (e: WatchEvent<KubernetesObject>) => push(e) };
}

/** A store of Secrets read by GET, counting the reads. */
function reads(store: Map<string, string>) {
  const got: string[] = [];
  let gate: Promise<void> = Promise.resolve();
  return {
    got,
    hold(p: Promise<void>) {
      gate = p;
    },
    read: async (ns: string, name: string): Promise<V1Secret | undefined> => {
      got.push(name);
      const value = store.get(name);
      await gate;
      return value === undefined
        ? undefined
        : { metadata: { namespace: ns, name }, data: { password: value } };
    },
  };
}

describe('RefCache', () => {
  it('given a referenced Secret, when it is read again and again, then it is read from the API once, and again after the informer reports a change', async () => {
    const store = new Map([['db', 'one']]);
    const { inf, push } = await metadataInformer([meta('db', '5')]);
    const r = reads(store);
    const cache = new RefCache<V1Secret>(new Map([['ns', inf]]), r.read);
    for (let i = 0; i < 5; i++) expect((await cache.get('ns', 'db'))?.data?.password).toBe('one');
    expect(r.got).toEqual(['db']);

    store.set('db', 'two');
    push({ type: 'MODIFIED', object: meta('db', '6') });
    expect((await cache.get('ns', 'db'))?.data?.password).toBe('two');
    expect((await cache.get('ns', 'db'))?.data?.password).toBe('two');
    expect(r.got).toEqual(['db', 'db']);
    await inf.stop();
  });

  it('given a Secret that does not exist, then the miss is remembered until the informer sees it created', async () => {
    const store = new Map<string, string>();
    const { inf, push } = await metadataInformer([]);
    const r = reads(store);
    const cache = new RefCache<V1Secret>(new Map([['ns', inf]]), r.read);
    expect(await cache.get('ns', 'late')).toBeUndefined();
    expect(await cache.get('ns', 'late')).toBeUndefined();
    expect(r.got).toEqual(['late']);

    store.set('late', 'pw');
    push({ type: 'ADDED', object: meta('late', '7') });
    expect((await cache.get('ns', 'late'))?.data?.password).toBe('pw');
    push({ type: 'DELETED', object: meta('late', '8') });
    store.delete('late');
    expect(await cache.get('ns', 'late')).toBeUndefined();
    expect(r.got).toEqual(['late', 'late', 'late']);
    await inf.stop();
  });

  it('given a change reported while the Secret is being read, then what was read is not kept', async () => {
    const store = new Map([['db', 'old']]);
    const { inf, push } = await metadataInformer([meta('db', '5')]);
    const r = reads(store);
    let release!: () => void;
    r.hold(new Promise<void>((res) => (release = res)));
    const cache = new RefCache<V1Secret>(new Map([['ns', inf]]), r.read);
    const first = cache.get('ns', 'db');
    const same = cache.get('ns', 'db'); // one read for both
    store.set('db', 'new');
    push({ type: 'MODIFIED', object: meta('db', '6') });
    release();
    expect((await first)?.data?.password).toBe('old');
    expect(await same).toBe(await first);
    expect((await cache.get('ns', 'db'))?.data?.password).toBe('new');
    expect(r.got).toEqual(['db', 'db']);
    await inf.stop();
  });

  it('given a Secret no workload references any more, when it is forgotten, then its data is dropped', async () => {
    const { inf } = await metadataInformer([meta('db', '5')]);
    const cache = new RefCache<V1Secret>(
      new Map([['ns', inf]]),
      reads(new Map([['db', 'x']])).read,
    );
    await cache.get('ns', 'db');
    expect(cache.size).toBe(1);
    cache.forget('ns', 'db');
    expect(cache.size).toBe(0);
    await inf.stop();
  });
});

describe('RefIndex', () => {
  it('given workloads and the objects they read, then a change finds its workloads, and an object nobody reads is reported once unused', () => {
    const index = new RefIndex();
    expect(index.set('ns/Deployment/a', ['ns/Secret/shared', 'ns/Secret/a'])).toEqual([]);
    expect(index.set('ns/Deployment/b', ['ns/Secret/shared'])).toEqual([]);
    expect(index.workloadsUsing('ns/Secret/shared').sort()).toEqual([
      'ns/Deployment/a',
      'ns/Deployment/b',
    ]);
    expect(index.set('ns/Deployment/a', ['ns/Secret/shared'])).toEqual(['ns/Secret/a']);
    expect(index.workloadsUsing('ns/Secret/a')).toEqual([]);
    expect(index.set('ns/Deployment/b', [])).toEqual([]);
    expect(index.set('ns/Deployment/a', [])).toEqual(['ns/Secret/shared']);
    expect(index.isUsed('ns/Secret/shared')).toBe(false);
  });
});
