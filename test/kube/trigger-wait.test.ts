// `snapkeeper trigger <ns>/<workload> [--wait]` against the real apiserver:
// the Job is made from the workload's CronJob, the job controller makes its
// pod, the test (as the kubelet) ends the pod, and --wait exits with the result.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { BatchV1Api, type KubeConfig, type V1Job } from '@kubernetes/client-node';
import { run } from '../../src/cli.js';
import { eventually } from './fixtures.js';
import {
  captureContext,
  createStatusScene,
  failureMessage,
  finishPod,
  jobPod,
  successMessage,
} from './status-fixtures.js';

const kube = inject('kube');
let kc: KubeConfig;
let control: string;
let shop: string;
let cronJobName: string;
let cronJobUid: string;

beforeAll(async () => {
  const scene = await createStatusScene(kube, 'sk-trigger');
  ({ kc, control, shop } = scene);
  const cj = scene.cronJob;
  cronJobName = cj.metadata!.name!;
  cronJobUid = cj.metadata!.uid!;
});

async function newJob(known: Set<string>): Promise<V1Job> {
  const batch = kc.makeApiClient(BatchV1Api);
  return eventually('the triggered Job', async () =>
    (await batch.listNamespacedJob({ namespace: control })).items.find(
      (j) => !known.has(j.metadata!.name!),
    ),
  );
}

async function jobNames(): Promise<Set<string>> {
  const list = await kc.makeApiClient(BatchV1Api).listNamespacedJob({ namespace: control });
  return new Set(list.items.map((j) => j.metadata!.name!));
}

function trigger(args: string[]) {
  const c = captureContext();
  // KUBECONFIG from the environment, as kubectl would pass it to a plugin.
  c.ctx.env = { KUBECONFIG: kube.kubeconfig };
  const done = run(['trigger', `${shop}/postgres`, '-n', control, ...args], c.ctx);
  return { ...c, done };
}

describe('snapkeeper trigger', () => {
  it('given no --wait, then it prints the name of a Job made from the CronJob and returns', async () => {
    const t = trigger([]);
    expect(await t.done).toBe(0);
    const name = t.stdout().trim();
    expect(name).toMatch(new RegExp(`^${cronJobName}-manual-\\d+$`));
    const job = await kc.makeApiClient(BatchV1Api).readNamespacedJob({ namespace: control, name });
    expect(job.metadata?.annotations?.['cronjob.kubernetes.io/instantiate']).toBe('manual');
    expect(job.metadata?.ownerReferences).toEqual([
      expect.objectContaining({
        kind: 'CronJob',
        name: cronJobName,
        uid: cronJobUid,
        controller: true,
      }),
    ]);
    expect(job.spec?.template.spec?.containers[0]?.name).toBe('dump');
    expect(job.metadata?.labels?.['snapkeeper.io/workload-name']).toBe('postgres');
  });

  it('given --wait and a pod that succeeds, then exit 0 with size and duration', async () => {
    const known = await jobNames();
    // Job names carry the second: keep two triggers of this suite apart (a
    // wait on the clock, truly: the name is made from it).
    await new Promise((r) => setTimeout(r, 1100));
    const t = trigger(['--wait']);
    const job = await newJob(known);
    const pod = await jobPod(kc, job);
    // Still following: it must not have returned before the pod ended. (Half
    // a second is a bound on a wrong early return, kept as it was: the pod
    // ending is the event, and the output below shows it was waited for.)
    expect(
      await Promise.race([t.done, new Promise((r) => setTimeout(() => r('waiting'), 500))]),
    ).toBe('waiting');
    await finishPod(kc, pod, 0, successMessage(`${shop}/postgres/20261120T030000Z`, 2048));
    expect(await t.done).toBe(0);
    expect(t.stdout()).toBe(
      `${job.metadata!.name}\nsucceeded: 2.0 KiB in 12.5s ${shop}/postgres/20261120T030000Z/manifest.json\n`,
    );
  });

  it('given --wait and a pod that fails, then exit 1 with the dumper reason', async () => {
    const known = await jobNames();
    await new Promise((r) => setTimeout(r, 1100)); // the clock's second, as above
    const t = trigger(['--wait']);
    const job = await newJob(known);
    const pod = await jobPod(kc, job);
    await finishPod(
      kc,
      pod,
      1,
      failureMessage('pg_dump exited with code 1: FATAL: database "app" does not exist'),
    );
    expect(await t.done).toBe(1);
    expect(t.stderr()).toBe(
      `snapkeeper: backup failed: pg_dump exited with code 1: FATAL: database "app" does not exist (job ${job.metadata!.name})\n`,
    );
  });

  it('given --wait and a timeout that passes first, then exit 1 saying so', async () => {
    await new Promise((r) => setTimeout(r, 1100)); // the clock's second, as above
    const t = trigger(['--wait', '--timeout', '2']);
    expect(await t.done).toBe(1);
    expect(t.stderr()).toMatch(/stopped waiting for job .* \(timeout\)/);
  });

  it('given an unknown workload, then exit 2 and one line', async () => {
    const c = captureContext({ KUBECONFIG: kube.kubeconfig });
    expect(await run(['trigger', `${shop}/nope`, '-n', control], c.ctx)).toBe(2);
    expect(c.stderr()).toBe(
      `snapkeeper: no snapkeeper backup for ${shop}/nope in namespace ${control} (see snapkeeper status)\n`,
    );
    expect(c.stdout()).toBe('');
  });

  it('given a malformed workload, then exit 2 and one line', async () => {
    const c = captureContext({ KUBECONFIG: kube.kubeconfig });
    expect(await run(['trigger', 'postgres', '-n', control], c.ctx)).toBe(2);
    expect(c.stderr()).toBe(`snapkeeper: expected <namespace>/<workload>, got 'postgres'\n`);
  });
});
