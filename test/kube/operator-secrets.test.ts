// The credentials Secrets a database pod references, against the real
// kube-apiserver: the operator watches their metadata (no data), so a changed
// password reaches the mirrored Secret within 2 s, with no resync involved
// (the resync period is 300 s here); a resync reads nothing; a deleted Secret
// or a removed key is a MissingCredentials Warning at once; and a watch cut
// by the network comes back and catches up.
import { BatchV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { kubeConfig } from '../env/helpers.js';
import { objectName } from '../../src/desired/names.js';
import { newNamespace, podEvents } from './fixtures.js';
import {
  reconcileCount,
  startTestOperator,
  startTestOperatorBehindRelay,
  type TestOperator,
} from './operator-fixtures.js';
import { PASSWORD, createDeploymentChain, createSupport, pgAnnotations } from './workloads.js';

const kube = inject('kube');
const RESYNC_SECONDS = 300;

function fixture(kc: KubeConfig, watched: () => string, control: () => string) {
  const core = kc.makeApiClient(CoreV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const nameOf = (app: string) =>
    objectName({ namespace: watched(), kind: 'Deployment', name: app });
  return {
    core,
    cronJob: (app: string) =>
      batch
        .readNamespacedCronJob({ namespace: control(), name: nameOf(app) })
        .catch(() => undefined),
    mirrored: async (app: string) => {
      const s = await core
        .readNamespacedSecret({ namespace: control(), name: nameOf(app) })
        .catch(() => undefined);
      const b64 = s?.data?.password;
      return b64 === undefined ? undefined : Buffer.from(b64, 'base64').toString();
    },
    setSource: (app: string, data: Record<string, string>) =>
      core.replaceNamespacedSecret({
        namespace: watched(),
        name: `${app}-creds`,
        body: { metadata: { name: `${app}-creds` }, stringData: data },
      }),
  };
}

describe('operator: credentials Secrets are watched', () => {
  let kc: KubeConfig;
  let watched: string;
  let control: string;
  let op: TestOperator;
  let f: ReturnType<typeof fixture>;

  /** The MissingCredentials Warning on the pod, within 4 s. */
  const missingCredentials = (pod: string) =>
    vi.waitFor(
      async () => {
        const [e] = await podEvents(kc, watched, pod, 'MissingCredentials');
        expect(e).toBeDefined();
        return e!;
      },
      { timeout: 4000, interval: 50 },
    );

  beforeAll(async () => {
    kc = kubeConfig(kube);
    watched = await newNamespace(kube, 'creds');
    control = await newNamespace(kube, 'snapkeeper');
    f = fixture(
      kc,
      () => watched,
      () => control,
    );
    op = await startTestOperator(
      kube,
      {
        SNAPKEEPER_CONTROL_NAMESPACE: control,
        SNAPKEEPER_WATCH_NAMESPACES: watched,
        POD_NAME: 'snapkeeper-creds-0',
      },
      {},
      RESYNC_SECONDS,
    );
    for (const app of ['pg', 'gone', 'nokey']) {
      await createSupport(kc, watched, app);
      await createDeploymentChain(kc, watched, app, pgAnnotations());
    }
    for (const app of ['pg', 'gone', 'nokey']) {
      await vi.waitFor(async () => expect(await f.mirrored(app)).toBe(PASSWORD), {
        timeout: 10_000,
        interval: 50,
      });
    }
  });

  afterAll(async () => {
    await op?.running.stop();
  });

  it('given a mirrored Secret, when the password in the source Secret changes, then the mirrored Secret has it within 2 seconds', async () => {
    const since = Date.now();
    await f.setSource('pg', { password: 'n3w-pa55word-1' });
    await vi.waitFor(async () => expect(await f.mirrored('pg')).toBe('n3w-pa55word-1'), {
      timeout: 4000,
      interval: 25,
    });
    expect(Date.now() - since).toBeLessThanOrEqual(2000);
    // The operator read that one Secret, once; not the others.
    const gets = op.requests.filter(
      (r) => r.at >= since && r.verb === 'get' && r.resource === 'secrets',
    );
    expect(gets).toHaveLength(1);
    expect(op.logs.join('\n')).not.toContain('n3w-pa55word-1');
  });

  it('given the workloads are in their desired state, when a resync runs, then it makes no request at all: no Secret GET, no write', async () => {
    await vi.waitFor(async () => expect(await f.mirrored('pg')).toBe('n3w-pa55word-1'));
    await op.running.controller.queue.drained();
    const since = Date.now();
    const before = await reconcileCount(op);
    op.running.controller.resync();
    await op.running.controller.queue.drained();
    expect((await reconcileCount(op)) - before).toBeGreaterThanOrEqual(3); // the resync did run
    expect(op.requests.filter((r) => r.at >= since)).toEqual([]);
  });

  it('given a mirrored Secret, when its source Secret is deleted, then a MissingCredentials Warning names it at once and the CronJob is kept', async () => {
    const before = await f.cronJob('gone');
    expect(before).toBeDefined();
    await f.core.deleteNamespacedSecret({ namespace: watched, name: 'gone-creds' });
    const pod = (await f.core.listNamespacedPod({ namespace: watched, labelSelector: 'app=gone' }))
      .items[0]!.metadata!.name!;
    const ev = await missingCredentials(pod);
    expect(ev.type).toBe('Warning');
    expect(ev.message).toContain(`Secret ${watched}/gone-creds`);
    expect((await f.cronJob('gone'))?.metadata?.resourceVersion).toBe(
      before!.metadata!.resourceVersion,
    );

    // Created again: mirrored again, without waiting for a resync.
    await f.core.createNamespacedSecret({
      namespace: watched,
      body: { metadata: { name: 'gone-creds' }, stringData: { password: 'b4ck-again' } },
    });
    await vi.waitFor(async () => expect(await f.mirrored('gone')).toBe('b4ck-again'), {
      timeout: 4000,
      interval: 50,
    });
  });

  it('given a mirrored Secret, when the key the pod uses is removed from its source Secret, then a MissingCredentials Warning names the key', async () => {
    await f.setSource('nokey', { other: 'x' });
    const pod = (await f.core.listNamespacedPod({ namespace: watched, labelSelector: 'app=nokey' }))
      .items[0]!.metadata!.name!;
    const ev = await missingCredentials(pod);
    expect(ev.message).toContain(`key password is not in Secret ${watched}/nokey-creds`);
    expect(JSON.stringify(ev)).not.toContain(PASSWORD);
  });
});

describe('operator: a Secret watch cut by the network', () => {
  it('given the connection to the apiserver is cut while a password changes, when it comes back, then the watch resumes and the change is mirrored', async () => {
    const kc = kubeConfig(kube);
    const watched = await newNamespace(kube, 'cut');
    const control = await newNamespace(kube, 'snapkeeper');
    const f = fixture(
      kc,
      () => watched,
      () => control,
    );
    const { op, relay } = await startTestOperatorBehindRelay(
      kube,
      {
        SNAPKEEPER_CONTROL_NAMESPACE: control,
        SNAPKEEPER_WATCH_NAMESPACES: watched,
        POD_NAME: 'snapkeeper-cut-0',
      },
      RESYNC_SECONDS,
    );
    try {
      await createSupport(kc, watched, 'pg');
      await createDeploymentChain(kc, watched, 'pg', pgAnnotations());
      await vi.waitFor(async () => expect(await f.mirrored('pg')).toBe(PASSWORD), {
        timeout: 10_000,
        interval: 50,
      });
      const watchesBefore = op.requests.filter((r) => r.verb === 'watch').length;

      const failures = () => op.logs.filter((l) => l.includes('list/watch failed, retrying'));
      const failedBefore = failures().length;
      relay.cut();
      await f.setSource('pg', { password: 'wh1le-cut' });
      // The operator's watches have noticed the cut, and the change is not through.
      await vi.waitFor(() => expect(failures().length).toBeGreaterThan(failedBefore), {
        timeout: 10_000,
        interval: 25,
      });
      expect(await f.mirrored('pg')).toBe(PASSWORD);
      relay.restore();

      await vi.waitFor(async () => expect(await f.mirrored('pg')).toBe('wh1le-cut'), {
        timeout: 10_000,
        interval: 50,
      });
      expect(op.requests.filter((r) => r.verb === 'watch').length).toBeGreaterThan(watchesBefore);
      expect(op.logs.join('\n')).toMatch(/list\/watch failed, retrying/);
    } finally {
      await op.running.stop();
      await relay.close();
    }
  });
});
