// A missed schedule against the real control plane: a snapkeeper CronJob that
// runs every minute, whose Job the real CronJob controller starts but nobody
// runs (no kubelet), is missed once its first run is past the grace: the
// gauge goes to 1 and a BackupMissed Warning lands on the pod. When the test
// then completes that scheduled Job's pod, the success is recorded and the
// workload is no longer missed.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Registry } from 'prom-client';
import { BatchV1Api, type KubeConfig, type V1CronJob, type V1Job } from '@kubernetes/client-node';
import { createMetrics, type Metrics } from '../../src/metrics/registry.js';
import type { StatusController } from '../../src/status/controller.js';
import { STATUS_ANNOTATIONS as A } from '../../src/labels.js';
import { eventually, podEvents } from './fixtures.js';
import {
  createStatusScene,
  finishPod,
  jobPod,
  parseMetrics,
  startTestStatusController,
  successMessage,
} from './status-fixtures.js';

const kube = inject('kube');
const GRACE = 20;

let kc: KubeConfig;
let control: string;
let shop: string;
let cronJob: V1CronJob;
let metrics: Metrics;
let ctl: StatusController;
/** Missed checks begun (each asks for the time once). */
let checks = 0;

async function missed(): Promise<number | undefined> {
  const s = parseMetrics(await metrics.registry.metrics());
  return s.find((x) => x.name === 'snapkeeper_backup_missed' && x.labels.namespace === shop)?.value;
}

const events = (reason: string) => podEvents(kc, shop, 'postgres-0', reason);

beforeAll(async () => {
  ({ kc, control, shop, cronJob } = await createStatusScene(kube, 'sk-missed', '* * * * *'));
  metrics = createMetrics(new Registry());
  ctl = startTestStatusController(kc, control, {
    metrics,
    instance: 'missed-test',
    missedGraceSeconds: GRACE,
    missedCheckIntervalMs: 1000,
    now: () => {
      checks++;
      return new Date();
    },
  });
  await ctl.synced;
});

afterAll(async () => {
  await ctl?.stop();
});

describe('missed schedule', () => {
  it('given a fresh CronJob, then not missed before its first run and grace', async () => {
    expect(await missed()).toBe(0);
  });

  it('given the scheduled run never ends, then missed=1 and one BackupMissed Warning after the grace', async () => {
    const created = Date.parse(String(cronJob.metadata!.creationTimestamp));
    await eventually('missed', async () => (await missed()) === 1, 100_000);
    // Not before the first minute boundary after creation plus the grace.
    const firstRun = Math.floor(created / 60_000) * 60_000 + 60_000;
    expect(Date.now()).toBeGreaterThanOrEqual(firstRun + GRACE * 1000);
    const [ev, ...more] = await eventually('BackupMissed', async () => {
      const e = await events('BackupMissed');
      return e.length > 0 && e;
    });
    expect(more).toEqual([]);
    expect(ev!.type).toBe('Warning');
    expect(ev!.message).toContain(
      `no successful backup of ${shop}/postgres since it was scheduled`,
    );
    // The check keeps running every second: three more of its runs (a fourth
    // has begun), still one Event, written once.
    const before = checks;
    await eventually('three more missed checks', async () => checks >= before + 4 || undefined);
    expect((await events('BackupMissed')).map((e) => e.count ?? 1)).toEqual([1]);
  });

  it('given the CronJob controller’s own Job then succeeds, then it is recorded and no longer missed', async () => {
    const batch = kc.makeApiClient(BatchV1Api);
    const scheduled = await eventually<V1Job>(
      'the scheduled Job',
      async () =>
        (await batch.listNamespacedJob({ namespace: control })).items.find((j) =>
          j.metadata?.ownerReferences?.some((o) => o.uid === cronJob.metadata!.uid),
        ),
      60_000,
    );
    // Made by the CronJob controller, not by a test: <cronjob>-<minutes since epoch>.
    expect(scheduled.metadata!.name).toMatch(new RegExp(`^${cronJob.metadata!.name}-\\d+$`));
    await finishPod(kc, await jobPod(kc, scheduled), 0, successMessage(`${shop}/postgres/x`, 10));
    await eventually('success recorded', async () => {
      const cj = await batch.readNamespacedCronJob({
        namespace: control,
        name: cronJob.metadata!.name!,
      });
      return cj.metadata?.annotations?.[A.lastJob] === scheduled.metadata!.name;
    });
    await eventually('not missed any more', async () => (await missed()) === 0, 10_000);
    expect((await events('BackupSucceeded')).length).toBe(1);
  });
});
