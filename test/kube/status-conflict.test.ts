// A 409 in the status controller, produced for real: between the controller's
// read of the CronJob and its guarded patch, the test writes to the CronJob
// through the apiserver, so the patch's resourceVersion is stale and the
// apiserver answers 409 Conflict. That is not a failure: like the operator's
// own reconcile, the controller requeues (no warning, no failure backoff),
// reads again and records the run once, keeping the other writer's change.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Registry } from 'prom-client';
import {
  BatchV1Api,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type V1CronJob,
} from '@kubernetes/client-node';
import { createMetrics } from '../../src/metrics/registry.js';
import { createLogger } from '../../src/log.js';
import { createKubeApi } from '../../src/kube/api.js';
import { EventRecorder } from '../../src/controller/events.js';
import {
  startStatusController,
  type StatusApi,
  type StatusController,
} from '../../src/status/controller.js';
import { createStatusApi, jobSource } from '../../src/status/kube.js';
import { ownedCronJobCache } from '../../src/controller/caches.js';
import { jobFromCronJob } from '../../src/cli/trigger-job.js';
import { STATUS_ANNOTATIONS as A } from '../../src/labels.js';
import { eventually } from './fixtures.js';
import {
  createStatusScene,
  finishPod,
  jobFinished,
  jobPod,
  successMessage,
} from './status-fixtures.js';

const kube = inject('kube');

describe('status controller: a 409 on the status patch', () => {
  let kc: KubeConfig;
  let control: string;
  let shop: string;
  let cronJob: V1CronJob;
  let ctl: StatusController | undefined;
  // The operator's CronJob cache, which the status controller shares.
  let cronJobs: ReturnType<typeof ownedCronJobCache> | undefined;
  const logs: { level: string; msg: string; error?: string }[] = [];
  const log = createLogger({
    level: 'debug',
    format: 'json',
    write: (l) => logs.push(JSON.parse(l) as { level: string; msg: string }),
  });

  beforeAll(async () => {
    ({ kc, control, shop, cronJob } = await createStatusScene(kube, 'sk-conflict'));
  });

  afterAll(async () => {
    await ctl?.stop();
    await cronJobs?.stop();
  });

  it('given another writer changes the CronJob between the read and the patch, then the controller requeues without a warning and records the run once', async () => {
    const batch = kc.makeApiClient(BatchV1Api);
    const real = createStatusApi(createKubeApi(kc));
    let armed = false;
    let conflicts = 0;
    // The real API; once armed, the next read is followed by a real write of
    // another field manager, so the patch that follows carries a stale
    // resourceVersion.
    const api: StatusApi = {
      ...real,
      async getCronJob(namespace, name) {
        const cj = await real.getCronJob(namespace, name);
        if (armed && cj) {
          armed = false;
          await batch.patchNamespacedCronJob(
            {
              namespace,
              name,
              body: { metadata: { annotations: { 'example.com/touched-by': 'someone-else' } } },
            },
            setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
          );
        }
        return cj;
      },
      cronJobPatcher: {
        kind: real.cronJobPatcher.kind,
        async patchMetadata(...args) {
          try {
            return await real.cronJobPatcher.patchMetadata(...args);
          } catch (err) {
            if ((err as { code?: number }).code === 409) conflicts++;
            throw err;
          }
        },
      },
    };
    const events = new EventRecorder({
      api: createKubeApi(kc).events,
      log,
      instance: 'status-conflict-test',
    });
    cronJobs = ownedCronJobCache(createKubeApi(kc), control, { log });
    cronJobs.start();
    ctl = startStatusController({
      namespace: control,
      jobs: jobSource(kc, control),
      cronJobs,
      api,
      events,
      metrics: createMetrics(new Registry()),
      log,
      missedGraceSeconds: 3600,
    });
    await ctl.synced;
    await ctl.drained();

    armed = true;
    const job = await batch.createNamespacedJob({
      namespace: control,
      body: jobFromCronJob(cronJob, new Date()),
    });
    await finishPod(
      kc,
      await jobPod(kc, job),
      0,
      successMessage(`${shop}/postgres/20261120T030000Z`, 4096),
    );
    await jobFinished(kc, control, job.metadata!.name!);

    const a = await eventually('status annotations', async () => {
      const cj = await batch.readNamespacedCronJob({
        namespace: control,
        name: cronJob.metadata!.name!,
      });
      const x = cj.metadata?.annotations ?? {};
      return x[A.lastSuccess] ? x : undefined;
    });
    await ctl.drained();

    // The conflict really happened, at the apiserver.
    expect(conflicts).toBe(1);
    // Recorded once, and the other writer's change is kept.
    expect(a[A.runsSucceeded]).toBe('1');
    expect(a[A.recordedJobs]).toBe(job.metadata!.uid);
    expect(a['example.com/touched-by']).toBe('someone-else');
    // A requeue, not a failure: nothing at warn or above.
    const loud = logs.filter((l) => l.level === 'warn' || l.level === 'error');
    expect(loud, JSON.stringify(loud)).toEqual([]);
    expect(logs.some((l) => l.level === 'debug' && /conflict/i.test(l.msg))).toBe(true);
  });
});
