import type { V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { applyObject, deleteOwned } from '../../src/apply/apply.js';
import type { ObjectWriter } from '../../src/kube/api.js';

const managed = { 'app.kubernetes.io/managed-by': 'snapkeeper' };
const secret = (hash: string, labels: Record<string, string> = managed, rv?: string): V1Secret => ({
  metadata: {
    name: 's',
    namespace: 'ctl',
    labels,
    annotations: { 'snapkeeper.io/spec-hash': hash },
    ...(rv ? { resourceVersion: rv } : {}),
  },
  data: { password: 'eA==' },
});
const httpError = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });

/** A fake writer recording calls; failures injected per verb. */
function writer(
  fail: Partial<Record<'create' | 'replace' | 'delete', number>> = {},
  current?: V1Secret,
) {
  const calls: string[] = [];
  const w: ObjectWriter<V1Secret> = {
    kind: 'Secret',
    get: async () => {
      calls.push('get');
      return current;
    },
    create: async (o) => {
      calls.push('create');
      if (fail.create) throw httpError(fail.create);
      return o;
    },
    replace: async (o) => {
      calls.push(`replace@${o.metadata?.resourceVersion}`);
      if (fail.replace) throw httpError(fail.replace);
      return o;
    },
    delete: async () => {
      calls.push('delete');
      if (fail.delete) throw httpError(fail.delete);
    },
  };
  return { w, calls };
}

describe('applyObject', () => {
  it('given nothing exists, then it creates', async () => {
    const { w, calls } = writer();
    expect((await applyObject(w, secret('h1'), undefined)).action).toBe('created');
    expect(calls).toEqual(['create']);
  });

  it('given the same spec hash, then it makes no request at all', async () => {
    const { w, calls } = writer();
    expect((await applyObject(w, secret('h1'), secret('h1', managed, '7'))).action).toBe(
      'unchanged',
    );
    expect(calls).toEqual([]);
  });

  it('given a different hash, then it replaces with the existing resourceVersion', async () => {
    const { w, calls } = writer();
    expect((await applyObject(w, secret('h2'), secret('h1', managed, '7'))).action).toBe('updated');
    expect(calls).toEqual(['replace@7']);
  });

  it('given a 409 on update, then the result is conflict (requeue), not an error', async () => {
    const { w } = writer({ replace: 409 });
    expect((await applyObject(w, secret('h2'), secret('h1', managed, '7'))).action).toBe(
      'conflict',
    );
  });

  it('given an object of that name without the managed-by label, then it is never updated', async () => {
    const { w, calls } = writer();
    const r = await applyObject(w, secret('h2'), secret('h1', { app: 'mine' }, '7'));
    expect(r.action).toBe('foreign');
    expect(calls).toEqual([]);
  });

  it('given create fails with AlreadyExists on a foreign object, then it reports foreign', async () => {
    const { w, calls } = writer({ create: 409 }, secret('x', { app: 'mine' }));
    expect((await applyObject(w, secret('h1'), undefined)).action).toBe('foreign');
    expect(calls).toEqual(['create', 'get']);
  });

  it('given any other API error, then it throws (the queue backs off)', async () => {
    const { w } = writer({ create: 500 });
    await expect(applyObject(w, secret('h1'), undefined)).rejects.toThrow('HTTP 500');
  });

  it('given a desired object without hash, then it refuses', async () => {
    const { w } = writer();
    const d = secret('h1');
    delete d.metadata!.annotations;
    await expect(applyObject(w, d, undefined)).rejects.toThrow(/spec hash/);
  });
});

describe('deleteOwned', () => {
  it('deletes only labelled objects, and treats 404 as done', async () => {
    expect(await deleteOwned(writer().w, secret('h', managed, '1'))).toBe('deleted');
    const foreign = writer();
    expect(await deleteOwned(foreign.w, secret('h', {}, '1'))).toBe('foreign');
    expect(foreign.calls).toEqual([]);
    expect(await deleteOwned(writer({ delete: 404 }).w, secret('h', managed, '1'))).toBe('absent');
    expect(await deleteOwned(writer({ delete: 409 }).w, secret('h', managed, '1'))).toBe(
      'conflict',
    );
    expect(await deleteOwned(writer().w, undefined)).toBe('absent');
  });
});
