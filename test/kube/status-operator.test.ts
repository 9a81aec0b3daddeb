// The status controller inside the real operator (startOperator): a workload
// annotated for backups gets its CronJob from the operator, `trigger` runs a
// Job from it, the test ends the pod as a kubelet would, and the result shows
// on the operator's own /metrics, as an Event on the workload's pod, and
// survives both a spec change of the CronJob (apply keeps the status
// annotations) and an operator restart.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BatchV1Api, type KubeConfig, type V1CronJob } from '@kubernetes/client-node';
import { run } from '../../src/cli.js';
import { STATUS_ANNOTATIONS as A } from '../../src/labels.js';
import { kubeConfig } from '../env/helpers.js';
import { eventually, newNamespace, podEvents } from './fixtures.js';
import { startTestOperator, type TestOperator } from './operator-fixtures.js';
import {
  createDeploymentChain,
  createSupport,
  pgAnnotations,
  setPodAnnotations,
  type Workload,
} from './workloads.js';
import {
  captureContext,
  finishPod,
  jobFinished,
  jobPod,
  parseMetrics,
  successMessage,
  workloadSample,
} from './status-fixtures.js';

const kube = inject('kube');
let kc: KubeConfig;
let control: string;
let shop: string;
let w: Workload;
let op: TestOperator | undefined;

const start = async () =>
  startTestOperator(kube, {
    SNAPKEEPER_CONTROL_NAMESPACE: control,
    SNAPKEEPER_WATCH_NAMESPACES: shop,
  });

async function scrape() {
  const res = await fetch(`http://127.0.0.1:${op!.running.httpPort}/metrics`);
  expect(res.status).toBe(200);
  return parseMetrics(await res.text());
}

const value = (
  s: ReturnType<typeof parseMetrics>,
  name: string,
  extra: Record<string, string> = {},
) => workloadSample(s, name, { namespace: shop, workload: 'db' }, extra);

async function theCronJob(): Promise<V1CronJob> {
  return eventually('the CronJob', async () => {
    const list = await kc.makeApiClient(BatchV1Api).listNamespacedCronJob({
      namespace: control,
      labelSelector: `snapkeeper.io/workload-namespace=${shop},snapkeeper.io/workload-name=db`,
    });
    return list.items[0];
  });
}

beforeAll(async () => {
  kc = kubeConfig(kube);
  control = await newNamespace(kube, 'sk-opstatus');
  shop = await newNamespace(kube, 'shop');
  await createSupport(kc, shop, 'db');
  w = await createDeploymentChain(kc, shop, 'db', pgAnnotations());
  op = await start();
});

afterAll(async () => {
  await op?.running.stop();
});

describe('status inside the operator', () => {
  it('given a triggered Job that succeeds, then /metrics, the Event on the pod, and the annotations show it', async () => {
    const cj = await theCronJob();
    const c = captureContext({ KUBECONFIG: kube.kubeconfig });
    expect(await run(['trigger', `${shop}/db`, '-n', control], c.ctx)).toBe(0);
    const name = c.stdout().trim();
    const job = await kc.makeApiClient(BatchV1Api).readNamespacedJob({ namespace: control, name });
    await finishPod(
      kc,
      await jobPod(kc, job),
      0,
      successMessage(`${shop}/db/20261120T030000Z`, 4096),
    );
    await jobFinished(kc, control, name);

    const s = await eventually('the backup metrics on /metrics', async () => {
      const x = await scrape();
      return value(x, 'snapkeeper_backup_last_size_bytes') === 4096 && x;
    });
    expect(value(s, 'snapkeeper_backup_runs_total', { result: 'success' })).toBe(1);
    expect(value(s, 'snapkeeper_backup_last_duration_seconds')).toBe(12.5);
    expect(value(s, 'snapkeeper_backup_missed')).toBe(0);
    expect(
      Date.now() / 1000 - value(s, 'snapkeeper_backup_last_success_timestamp_seconds')!,
    ).toBeLessThan(120);

    const ev = await eventually('BackupSucceeded on the pod', async () =>
      (await podEvents(kc, shop, w.pods[0]!.metadata!.name!)).find(
        (e) => e.reason === 'BackupSucceeded',
      ),
    );
    expect(ev.message).toContain(`backup of ${shop}/db succeeded: 4.0 KiB in 12.5s (job ${name}`);
    const a = (await theCronJob()).metadata!.annotations!;
    expect(a[A.runsSucceeded]).toBe('1');
    expect(a['snapkeeper.io/spec-hash']).toBe(cj.metadata!.annotations!['snapkeeper.io/spec-hash']);
  });

  it('given a new schedule on the pod, then the operator updates the CronJob and the status annotations stay', async () => {
    const before = (await theCronJob()).metadata!.annotations!;
    await setPodAnnotations(
      kc,
      shop,
      w.pods[0]!.metadata!.name!,
      pgAnnotations({ 'snapkeeper.io/schedule': '30 4 * * *' }),
    );
    const updated = await eventually('the CronJob updated', async () => {
      const c = await theCronJob();
      return c.spec?.schedule === '30 4 * * *' && c;
    });
    const a = updated.metadata!.annotations!;
    expect(a['snapkeeper.io/spec-hash']).not.toBe(before['snapkeeper.io/spec-hash']);
    for (const k of [A.lastSuccess, A.lastSize, A.runsSucceeded, A.recordedJobs])
      expect(a[k]).toBe(before[k]);
  });

  it('given an operator restart, then /metrics comes back from the annotations and nothing is recorded again', async () => {
    const before = (await theCronJob()).metadata!.annotations!;
    await op!.running.stop();
    op = await start();
    const s = await eventually('restored metrics', async () => {
      const x = await scrape();
      return value(x, 'snapkeeper_backup_last_size_bytes') === 4096 && x;
    });
    expect(value(s, 'snapkeeper_backup_runs_total', { result: 'success' })).toBe(1);
    expect(value(s, 'snapkeeper_backup_runs_total', { result: 'failure' })).toBe(0);
    // Its status controller has made its first pass (which records what
    // finished while nobody watched): the missed check that ends the pass
    // has run.
    await eventually('the first pass of the status controller', async () =>
      value(await scrape(), 'snapkeeper_backup_missed') !== undefined ? true : undefined,
    );
    expect(op.writes(0, ['cronjobs'])).toEqual([]);
    const after = (await theCronJob()).metadata!.annotations!;
    expect(after[A.runsSucceeded]).toBe(before[A.runsSucceeded]);
    const events = (await podEvents(kc, shop, w.pods[0]!.metadata!.name!)).filter(
      (e) => e.reason === 'BackupSucceeded',
    );
    expect(events.map((e) => e.count ?? 1)).toEqual([1]);
  });
});
