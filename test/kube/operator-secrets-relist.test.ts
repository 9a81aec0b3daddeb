// A Secret watch that comes back "too old" (410 Gone) lists again and
// recovers, against the real kube-apiserver. The apiserver answers 410 only
// when a resourceVersion has left its watch cache (minutes of history under
// load), which a test cannot bring about in seconds: so the one watch request
// after the cut is answered by nock with the Status event a real apiserver
// sends; every other request, the list that follows included, reaches the
// real server. In a file of its own, so that nock's activation and restore
// concern no other test.
import nock from 'nock';
import { CoreV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { kubeConfig } from '../env/helpers.js';
import { objectName } from '../../src/desired/names.js';
import { newNamespace } from './fixtures.js';
import { startTestOperatorBehindRelay } from './operator-fixtures.js';
import { PASSWORD, createDeploymentChain, createSupport, pgAnnotations } from './workloads.js';

const kube = inject('kube');

afterAll(() => {
  nock.cleanAll();
  nock.restore();
});

describe('operator: a Secret watch that expired', () => {
  it('given the watch is dropped and comes back 410 Gone while a password changes, then the operator lists again and mirrors the change', async () => {
    const kc = kubeConfig(kube);
    const core = kc.makeApiClient(CoreV1Api);
    const watched = await newNamespace(kube, 'relist');
    const control = await newNamespace(kube, 'snapkeeper');
    const mirrored = async () => {
      const s = await core
        .readNamespacedSecret({
          namespace: control,
          name: objectName({ namespace: watched, kind: 'Deployment', name: 'pg' }),
        })
        .catch(() => undefined);
      const b64 = s?.data?.password;
      return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString();
    };
    const { op, relay } = await startTestOperatorBehindRelay(
      kube,
      {
        SNAPKEEPER_CONTROL_NAMESPACE: control,
        SNAPKEEPER_WATCH_NAMESPACES: watched,
        POD_NAME: 'snapkeeper-relist-0',
      },
      300,
    );
    try {
      await createSupport(kc, watched, 'pg');
      await createDeploymentChain(kc, watched, 'pg', pgAnnotations());
      await vi.waitFor(async () => expect(await mirrored()).toBe(PASSWORD), {
        timeout: 10_000,
        interval: 50,
      });
      // Let the first watches run over a second, so a close is a clean one: a
      // wait on the clock, truly (the informer counts a watch closed within
      // its first second as a failure, src/kube/informer.ts).
      await new Promise((r) => setTimeout(r, 1200));

      if (!nock.isActive()) nock.activate();
      const expired = nock(relay.server, { allowUnmocked: true })
        .get(`/api/v1/namespaces/${watched}/secrets`)
        .query((q) => q.watch === 'true')
        .reply(
          200,
          JSON.stringify({
            type: 'ERROR',
            object: {
              kind: 'Status',
              apiVersion: 'v1',
              status: 'Failure',
              message: 'too old resource version',
              reason: 'Expired',
              code: 410,
            },
          }) + '\n',
        );
      const since = Date.now();
      relay.cut(); // the change below is not seen on the old watch
      await core.replaceNamespacedSecret({
        namespace: watched,
        name: 'pg-creds',
        body: { metadata: { name: 'pg-creds' }, stringData: { password: 'aft3r-410' } },
      });
      relay.restore();

      await vi.waitFor(async () => expect(await mirrored()).toBe('aft3r-410'), {
        timeout: 10_000,
        interval: 50,
      });
      expect(expired.isDone()).toBe(true);
      expect(
        op.requests.some((r) => r.at >= since && r.verb === 'list' && r.resource === 'secrets'),
      ).toBe(true);
      expect(op.logs.join('\n')).toContain('watch expired (410 Gone), re-listing');
    } finally {
      nock.cleanAll();
      nock.restore();
      await op.running.stop();
      await relay.close();
    }
  });
});
