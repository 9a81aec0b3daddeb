// The operator's API client against the real kube-apiserver: requests share
// a pool of keep-alive connections (client-node alone opens a new TLS
// connection per request), and a metadata-only list never carries data.
import { CoreV1Api } from '@kubernetes/client-node';
import { describe, expect, inject, it } from 'vitest';
import { kubeConfig } from '../env/helpers.js';
import { createKubeApi } from '../../src/kube/api.js';
import { cuttableRelay, newNamespace } from './fixtures.js';

const kube = inject('kube');

describe('kube API client', () => {
  it('given 200 reads, 50 at a time, then they go over at most 16 connections', async () => {
    const relay = await cuttableRelay(new URL(kube.server));
    const api = createKubeApi(kubeConfig({ ...kube, server: relay.server }));
    try {
      const ns = await newNamespace(kube, 'pool');
      const names = Array.from({ length: 200 }, (_, i) => `s${i}`);
      for (let i = 0; i < names.length; i += 50) {
        const got = await Promise.all(names.slice(i, i + 50).map((n) => api.read.getSecret(ns, n)));
        expect(got.every((s) => s === undefined)).toBe(true); // 404s, read as "absent"
      }
      expect(relay.connections()).toBeGreaterThan(0);
      expect(relay.connections()).toBeLessThanOrEqual(16);
    } finally {
      api.close();
      await relay.close();
    }
  });

  it('given Secrets with data, then the metadata list and watch give names and resourceVersions, never data', async () => {
    const ns = await newNamespace(kube, 'meta');
    const core = kubeConfig(kube).makeApiClient(CoreV1Api);
    const api = createKubeApi(kubeConfig(kube));
    try {
      for (let i = 0; i < 3; i++) {
        await core.createNamespacedSecret({
          namespace: ns,
          body: { metadata: { name: `m${i}` }, stringData: { password: `v4lue-${i}` } },
        });
      }
      const source = api.secretsMetadata(ns);
      const list = await source.list();
      expect(list.items.map((s) => s.metadata?.name).sort()).toEqual(['m0', 'm1', 'm2']);
      expect(list.resourceVersion).not.toBe('');
      expect(list.items.every((s) => s.kind === 'PartialObjectMetadata')).toBe(true);
      expect(list.items.every((s) => !('data' in s))).toBe(true);
      expect(JSON.stringify(list)).not.toContain('"data"');
      expect(JSON.stringify(list)).not.toContain(Buffer.from('v4lue-').toString('base64'));

      const events: string[] = [];
      const cancel = await source.watch(
        list.resourceVersion,
        (e) => events.push(`${e.type} ${e.object.metadata?.name} ${JSON.stringify(e.object)}`),
        () => {},
      );
      await core.replaceNamespacedSecret({
        namespace: ns,
        name: 'm1',
        body: { metadata: { name: 'm1' }, stringData: { password: 'ch4nged' } },
      });
      await expect
        .poll(() => events.find((e) => e.startsWith('MODIFIED m1')), { timeout: 5000 })
        .toBeDefined();
      cancel();
      expect(events.join('\n')).not.toContain('"data"');
      expect(events.join('\n')).not.toContain(Buffer.from('ch4nged').toString('base64'));
    } finally {
      api.close();
    }
  });
});
