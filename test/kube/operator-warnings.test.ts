// Annotation warnings against the real kube-apiserver: what parseAnnotations
// warns about (a misspelt key, both prefixes set differently, a setting
// ignored for the type) reaches the pod as AnnotationWarning Events, once
// each, without blocking the CronJob and without a write per resync.
import { BatchV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { kubeConfig } from '../env/helpers.js';
import { objectName } from '../../src/desired/names.js';
import { eventually, newNamespace, podEvents } from './fixtures.js';
import { resynced, settled, startTestOperator, type TestOperator } from './operator-fixtures.js';
import { createDeploymentChain, createSupport, pgAnnotations } from './workloads.js';

const kube = inject('kube');
const S = 'snapkeeper.io/';
const K = 'ksnapshot.clickandmortar.fr/';

describe('operator annotation warnings', () => {
  let kc: KubeConfig;
  let watched: string;
  let control: string;
  let op: TestOperator;
  let batch: BatchV1Api;

  const cronJob = (app: string) =>
    batch
      .readNamespacedCronJob({
        namespace: control,
        name: objectName({ namespace: watched, kind: 'Deployment', name: app }),
      })
      .catch(() => undefined);
  const warnings = async (pod: string) =>
    (await podEvents(kc, watched, pod)).filter((e) => e.reason === 'AnnotationWarning');

  beforeAll(async () => {
    kc = kubeConfig(kube);
    batch = kc.makeApiClient(BatchV1Api);
    watched = await newNamespace(kube, 'warn');
    control = await newNamespace(kube, 'snapkeeper');
    op = await startTestOperator(kube, {
      SNAPKEEPER_CONTROL_NAMESPACE: control,
      SNAPKEEPER_WATCH_NAMESPACES: watched,
      POD_NAME: 'snapkeeper-warn-0',
    });
  });

  afterAll(async () => {
    await op?.running.stop();
  });

  it('given a valid set with a misspelt key, two prefixes that disagree and an elasticsearch-limit on postgresql, then the CronJob is made and each warning is one Warning Event, written once over several resyncs', async () => {
    await createSupport(kc, watched, 'pg');
    const w = await createDeploymentChain(
      kc,
      watched,
      'pg',
      pgAnnotations({
        [`${S}retension`]: 'keep-last=3',
        [`${K}schedule`]: '0 5 * * *',
        [`${S}elasticsearch-limit`]: '50',
      }),
    );
    const pod = w.pods[0]!.metadata!.name!;
    const cj = await eventually('CronJob', () => cronJob('pg'));
    expect(cj.spec!.schedule).toBe('0 3 * * *'); // the snapkeeper.io/ value wins

    const evs = await eventually('three AnnotationWarning events', async () => {
      const found = await warnings(pod);
      return found.length >= 3 ? found : undefined;
    });
    expect(evs.every((e) => e.type === 'Warning' && e.reportingComponent === 'snapkeeper')).toBe(
      true,
    );
    const messages = evs.map((e) => e.message!).sort();
    expect(messages).toEqual([
      `${S}elasticsearch-limit: ignored for type postgresql`,
      expect.stringMatching(
        /^snapkeeper\.io\/retension: unknown annotation, ignored; known: .*retention/,
      ),
      `${S}schedule: overrides ${K}schedule ("0 5 * * *"); using "0 3 * * *"`,
    ]);

    // Several resyncs: the warnings stand, nothing is written again.
    await settled(op);
    const since = Date.now();
    expect(await resynced(op, 3)).toBeGreaterThanOrEqual(3);
    expect(op.writes(since)).toEqual([]);
    const again = await warnings(pod);
    expect(again).toHaveLength(3);
    expect(again.every((e) => (e.count ?? 1) === 1)).toBe(true);
  });

  it('given an invalid set whose required key is misspelt, then the InvalidAnnotation comes with the AnnotationWarning that explains it, and no CronJob', async () => {
    await createSupport(kc, watched, 'typo');
    const annotations = pgAnnotations();
    delete annotations[`${S}schedule`];
    annotations[`${S}shedule`] = '0 3 * * *';
    const w = await createDeploymentChain(kc, watched, 'typo', annotations);
    const pod = w.pods[0]!.metadata!.name!;
    const warning = await eventually(
      'AnnotationWarning event',
      async () => (await warnings(pod))[0],
    );
    expect(warning.message).toMatch(
      /^snapkeeper\.io\/shedule: unknown annotation, ignored; known: .*schedule/,
    );
    const invalid = await eventually('InvalidAnnotation event', async () =>
      (await podEvents(kc, watched, pod)).find((e) => e.reason === 'InvalidAnnotation'),
    );
    expect(invalid.message).toMatch(/^snapkeeper\.io\/schedule: is required/);
    expect(await cronJob('typo')).toBeUndefined();
  });
});
