// The operator under exactly the chart's RBAC: `node dist/cli.js operator`
// runs with a TokenRequest token of the chart's own ServiceAccount and
// completes the reconcile scenario (status controller included); then, for
// each rule of the chart's Roles, the same scenario under the Roles minus that
// rule fails at a named step with the API's refusal in the operator's log, so
// every permission is needed; and the operator cannot read Secrets in a
// namespace it does not watch (where it watches, it can list them: the
// metadata-only Secret informer needs list + watch). The rule runs are independent (own namespaces,
// own operator process) and run a few at a time.
import {
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubeConfig,
  type KubernetesObject,
  type V1CronJob,
  type V1Pod,
} from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import { kubeConfig, serviceAccountToken } from '../env/helpers.js';
import { orUndefined } from '../../src/kube/errors.js';
import { repoRoot } from '../env/paths.js';
import { freePort } from '../env/servers/process.js';
import { render, type Manifest } from './chart-render.js';

const kube = inject('kube');
const cli = join(repoRoot, 'dist', 'cli.js');
const admin = kubeConfig(kube);
const core = admin.makeApiClient(CoreV1Api);
const batch = admin.makeApiClient(BatchV1Api);
const coordination = admin.makeApiClient(CoordinationV1Api);
const objectApi = KubernetesObjectApi.makeApiClient(admin);
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
let dir: string;

/** Creates `obj` as admin; returns it as stored (uid included). */
async function create<T extends KubernetesObject>(obj: T): Promise<T> {
  return (await objectApi.create(obj)) as T;
}

/** The scenario's steps, in order; a run reports the first that did not happen. */
const STEPS = [
  'caches synced (/readyz)',
  'leader elected (Lease)',
  'CronJob created',
  'credentials Secret mirrored',
  'BackupScheduled Event on the pod',
  'Job-owned workload tracked',
  'finished Job reported (BackupSucceeded)',
  'status recorded on the CronJob (last-success)',
  'annotation removed: CronJob and Secret deleted',
  'workload object deleted: CronJob and Secret deleted',
  'StatefulSet deleted: CronJob and Secret deleted',
] as const;
type Step = (typeof STEPS)[number];

interface Namespaces {
  ctl: string;
  watched: string;
}

interface RunResult {
  failed?: Step;
  log: string;
}

/** Polls `check` until it holds; false on timeout, or at once when `gone()` (the operator exited). */
async function until(
  timeoutMs: number,
  gone: () => boolean,
  check: () => Promise<boolean>,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone()) return false;
    try {
      if (await check()) return true;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The database workload: Deployment -> ReplicaSet -> Pod, a Service, credentials. */
async function createWorkloads(ns: string): Promise<void> {
  const annotations = {
    'snapkeeper.io/enabled': 'true',
    'snapkeeper.io/type': 'postgresql',
    'snapkeeper.io/schedule': '0 3 * * *',
  };
  const container = {
    name: 'postgres',
    image: 'postgres:17',
    env: [
      {
        name: 'POSTGRES_USER',
        valueFrom: { secretKeyRef: { name: 'pg-credentials', key: 'user' } },
      },
      {
        name: 'POSTGRES_PASSWORD',
        valueFrom: { secretKeyRef: { name: 'pg-credentials', key: 'password' } },
      },
      {
        name: 'POSTGRES_DB',
        valueFrom: { configMapKeyRef: { name: 'pg-settings', key: 'database' } },
      },
    ],
    ports: [{ name: 'postgres', containerPort: 5432 }],
  };
  await create({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'pg-credentials', namespace: ns },
    stringData: { user: 'shop', password: 'pg-secret-password' },
  });
  await create({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'pg-settings', namespace: ns },
    data: { database: 'shop' },
  });
  await create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'postgres', namespace: ns },
    spec: { selector: { app: 'postgres' }, ports: [{ name: 'postgres', port: 5432 }] },
  });
  const labels = { app: 'postgres' };
  const deployment = await create<Manifest>({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'postgres', namespace: ns },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: { metadata: { labels, annotations }, spec: { containers: [container] } },
    },
  });
  const owner = (o: Manifest, kind: string, apiVersion: string) => [
    { apiVersion, kind, name: o.metadata.name, uid: o.metadata.uid as string, controller: true },
  ];
  const rs = await create<Manifest>({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: 'postgres-7d9f8',
      namespace: ns,
      labels,
      ownerReferences: owner(deployment, 'Deployment', 'apps/v1'),
    },
    spec: {
      replicas: 0,
      selector: { matchLabels: labels },
      template: { metadata: { labels, annotations }, spec: { containers: [container] } },
    },
  });
  await create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'postgres-7d9f8-x2v4q',
      namespace: ns,
      labels,
      annotations,
      ownerReferences: owner(rs, 'ReplicaSet', 'apps/v1'),
    },
    spec: { containers: [container] },
  });

  // A StatefulSet of one replica (owner chain Pod -> StatefulSet).
  const stsLabels = { app: 'ledger' };
  const sts = await create<Manifest>({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'ledger', namespace: ns },
    spec: {
      replicas: 1,
      serviceName: 'ledger',
      selector: { matchLabels: stsLabels },
      template: {
        metadata: { labels: stsLabels, annotations },
        spec: { containers: [container] },
      },
    },
  });
  await create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'ledger-0',
      namespace: ns,
      labels: stsLabels,
      annotations,
      ownerReferences: owner(sts, 'StatefulSet', 'apps/v1'),
    },
    spec: { containers: [container] },
  });
  await create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'ledger', namespace: ns },
    spec: { selector: stsLabels, ports: [{ name: 'postgres', port: 5432 }] },
  });

  // A second database run by a Job of a CronJob (owner chain Pod -> Job -> CronJob).
  const esLabels = { app: 'search' };
  const esPod = {
    containers: [
      {
        name: 'elasticsearch',
        image: 'elasticsearch:8',
        env: [
          {
            name: 'ELASTIC_PASSWORD',
            valueFrom: { secretKeyRef: { name: 'pg-credentials', key: 'password' } },
          },
        ],
        ports: [{ name: 'http', containerPort: 9200 }],
      },
    ],
    restartPolicy: 'Never',
  };
  const esAnnotations = { ...annotations, 'snapkeeper.io/type': 'elasticsearch' };
  const cronJob = await create<Manifest>({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'search', namespace: ns },
    spec: {
      schedule: '0 0 1 1 *',
      suspend: true,
      jobTemplate: { spec: { template: { metadata: { labels: esLabels }, spec: esPod } } },
    },
  });
  const job = await create<Manifest>({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: 'search-29000000',
      namespace: ns,
      ownerReferences: owner(cronJob, 'CronJob', 'batch/v1'),
    },
    // Not run by the Job controller: the test plays it.
    spec: {
      managedBy: 'snapkeeper.test/none',
      template: { metadata: { labels: esLabels }, spec: esPod },
    },
  });
  await create({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'search-29000000-abcde',
      namespace: ns,
      labels: esLabels,
      annotations: esAnnotations,
      ownerReferences: owner(job, 'Job', 'batch/v1'),
    },
    spec: esPod,
  });
  await create({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'search', namespace: ns },
    spec: { selector: esLabels, ports: [{ name: 'http', port: 9200 }] },
  });
}

const managed = (workload: string) =>
  `app.kubernetes.io/managed-by=snapkeeper,snapkeeper.io/workload-name=${workload}`;

async function managedCronJobs(ns: string, workload: string): Promise<V1CronJob[]> {
  return (await batch.listNamespacedCronJob({ namespace: ns, labelSelector: managed(workload) }))
    .items;
}

/** Plays the Job controller and the kubelet: a finished backup Job of the operator's CronJob. */
async function finishBackupJob(ctl: string, cronJob: V1CronJob): Promise<void> {
  const job = await batch.createNamespacedJob({
    namespace: ctl,
    body: {
      metadata: {
        name: `${cronJob.metadata!.name}-29000001`,
        namespace: ctl,
        labels: cronJob.metadata!.labels,
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'CronJob',
            name: cronJob.metadata!.name!,
            uid: cronJob.metadata!.uid!,
            controller: true,
          },
        ],
      },
      spec: { ...cronJob.spec!.jobTemplate.spec!, managedBy: 'snapkeeper.test/none' },
    },
  });
  const now = new Date();
  const started = new Date(now.getTime() - 12_000).toISOString().replace(/\.\d+Z$/, 'Z');
  const finished = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const result = {
    ok: true,
    manifestKey: 'shop/postgres/20261120T030000Z/manifest.json',
    objects: [
      { key: 'shop/postgres/20261120T030000Z/shop.sql.gz', bytes: 1234, sha256: 'a'.repeat(64) },
    ],
    bytes: 1234,
    rawBytes: 5678,
    durationSeconds: 12,
    serverVersion: '17.2',
    startedAt: started,
    finishedAt: finished,
  };
  const jobName = job.metadata!.name!;
  const pod = await core.createNamespacedPod({
    namespace: ctl,
    body: {
      metadata: {
        name: `${jobName}-pq7rs`,
        namespace: ctl,
        labels: {
          'batch.kubernetes.io/controller-uid': job.metadata!.uid!,
          'batch.kubernetes.io/job-name': jobName,
        },
        ownerReferences: [
          {
            apiVersion: 'batch/v1',
            kind: 'Job',
            name: jobName,
            uid: job.metadata!.uid!,
            controller: true,
          },
        ],
      },
      spec: { containers: [{ name: 'dump', image: 'dumper' }], restartPolicy: 'Never' },
    },
  });
  await core.patchNamespacedPodStatus(
    {
      namespace: ctl,
      name: pod.metadata!.name!,
      body: {
        status: {
          phase: 'Succeeded',
          containerStatuses: [
            {
              name: 'dump',
              image: 'dumper',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: {
                terminated: {
                  exitCode: 0,
                  reason: 'Completed',
                  message: JSON.stringify(result),
                  startedAt: started,
                  finishedAt: finished,
                },
              },
            },
          ],
        },
      },
    },
    mergePatch,
  );
  await batch.patchNamespacedJobStatus(
    {
      namespace: ctl,
      name: jobName,
      body: {
        status: {
          startTime: started,
          completionTime: finished,
          succeeded: 1,
          conditions: [
            { type: 'SuccessCriteriaMet', status: 'True', lastTransitionTime: finished },
            { type: 'Complete', status: 'True', lastTransitionTime: finished },
          ],
        },
      },
    },
    mergePatch,
  );
}

async function eventsFor(ns: string, pod: string, reason: string) {
  return (
    await core.listNamespacedEvent({
      namespace: ns,
      fieldSelector: `involvedObject.name=${pod},reason=${reason}`,
    })
  ).items;
}

const SOURCE_POD = 'postgres-7d9f8-x2v4q';

/** What a test does with the operator's ServiceAccount after a completed scenario. */
type AfterScenario = (ns: Namespaces, asOperator: KubeConfig) => Promise<void>;

/**
 * The chart's objects for namespaces `ns`, with `mutate` applied to its Roles,
 * installed as admin; then the operator runs as the chart's ServiceAccount
 * through the scenario. Returns the first step that did not happen. When
 * every step happened, `after` runs while the chart's objects (and so the
 * ServiceAccount) still exist; the namespaces go last.
 */
async function runScenario(
  ns: Namespaces,
  mutate: (roles: Manifest[]) => void,
  stepTimeoutMs: number,
  after?: AfterScenario,
): Promise<RunResult> {
  const { objects } = await render(
    { storage: { bucket: 'snapkeeper-test' }, watchNamespaces: [ns.watched] },
    { namespace: ns.ctl },
  );
  mutate(objects.filter((o) => o.kind === 'Role'));
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';
  try {
    for (const n of [ns.ctl, ns.watched])
      await core.createNamespace({ body: { metadata: { name: n } } });
    // Everything but the Deployment: the test runs the operator itself.
    for (const o of objects.filter((o) => o.kind !== 'Deployment')) await create(o);
    await createWorkloads(ns.watched);

    const kc = kubeConfig(kube, await serviceAccountToken(kube, ns.ctl, 'snapkeeper'));
    const kubeconfigFile = join(dir, `${ns.ctl}.kubeconfig`);
    await writeFile(kubeconfigFile, kc.exportConfig(), { mode: 0o600 });
    const port = await freePort();
    const config = (
      objects.find((o) => o.kind === 'ConfigMap') as Manifest & { data: Record<string, string> }
    ).data;
    const proc = spawn(process.execPath, [cli, 'operator'], {
      env: {
        PATH: process.env.PATH,
        ...config,
        SNAPKEEPER_HTTP_ADDRESS: `127.0.0.1:${port}`,
        SNAPKEEPER_RESYNC_SECONDS: '30',
        POD_NAME: 'operator-under-test',
        POD_NAMESPACE: ns.ctl,
        KUBECONFIG: kubeconfigFile,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout.on('data', (b: Buffer) => (log += b.toString()));
    proc.stderr.on('data', (b: Buffer) => (log += b.toString()));
    exited = new Promise<void>((r) => proc.once('exit', () => r()));
    const gone = () => proc.exitCode !== null || proc.signalCode !== null;

    let ledgerDeleted = false;
    const steps: Record<Step, () => Promise<boolean>> = {
      'caches synced (/readyz)': async () =>
        (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
      'leader elected (Lease)': async () => {
        const lease = await orUndefined(
          coordination.readNamespacedLease({ namespace: ns.ctl, name: 'snapkeeper-leader' }),
        );
        return lease?.spec?.holderIdentity === 'operator-under-test';
      },
      'CronJob created': async () => (await managedCronJobs(ns.ctl, 'postgres')).length === 1,
      'credentials Secret mirrored': async () => {
        const [s] = (
          await core.listNamespacedSecret({ namespace: ns.ctl, labelSelector: managed('postgres') })
        ).items;
        return Buffer.from(s?.data?.password ?? '', 'base64').toString() === 'pg-secret-password';
      },
      'BackupScheduled Event on the pod': async () =>
        (await eventsFor(ns.watched, SOURCE_POD, 'BackupScheduled')).length > 0,
      'Job-owned workload tracked': async () =>
        (await managedCronJobs(ns.ctl, 'search')).length === 1,
      'finished Job reported (BackupSucceeded)': async () => {
        const [cj] = await managedCronJobs(ns.ctl, 'postgres');
        if (!cj) return false;
        const jobName = `${cj.metadata!.name}-29000001`;
        if (!(await orUndefined(batch.readNamespacedJob({ namespace: ns.ctl, name: jobName }))))
          await finishBackupJob(ns.ctl, cj);
        const [ev] = await eventsFor(ns.watched, SOURCE_POD, 'BackupSucceeded');
        return ev?.message?.includes(`job ${jobName}`) ?? false;
      },
      'status recorded on the CronJob (last-success)': async () => {
        const [cj] = await managedCronJobs(ns.ctl, 'postgres');
        const annotations = cj?.metadata?.annotations ?? {};
        return (
          annotations['snapkeeper.io/last-success'] !== undefined &&
          annotations['snapkeeper.io/last-job'] === `${cj!.metadata!.name}-29000001`
        );
      },
      'annotation removed: CronJob and Secret deleted': async () => {
        const pod: V1Pod = await core.readNamespacedPod({
          namespace: ns.watched,
          name: SOURCE_POD,
        });
        if (pod.metadata?.annotations?.['snapkeeper.io/enabled'] === 'true') {
          await core.patchNamespacedPod(
            {
              namespace: ns.watched,
              name: SOURCE_POD,
              body: { metadata: { annotations: { 'snapkeeper.io/enabled': null } } },
            },
            mergePatch,
          );
        }
        const secrets = await core.listNamespacedSecret({
          namespace: ns.ctl,
          labelSelector: managed('postgres'),
        });
        return (
          (await managedCronJobs(ns.ctl, 'postgres')).length === 0 && secrets.items.length === 0
        );
      },
      // The Job-owned workload's CronJob goes (its Job and pod with it, by the
      // garbage collector): the operator reads that CronJob, finds it gone,
      // and cleans up.
      'workload object deleted: CronJob and Secret deleted': async () => {
        const source = await orUndefined(
          batch.readNamespacedCronJob({ namespace: ns.watched, name: 'search' }),
        );
        if (source && !source.metadata?.deletionTimestamp) {
          await batch.deleteNamespacedCronJob({
            namespace: ns.watched,
            name: 'search',
            propagationPolicy: 'Background',
          });
        }
        const secrets = await core.listNamespacedSecret({
          namespace: ns.ctl,
          labelSelector: managed('search'),
        });
        return (await managedCronJobs(ns.ctl, 'search')).length === 0 && secrets.items.length === 0;
      },
      // Once its CronJob exists, the StatefulSet goes (its pod with it).
      'StatefulSet deleted: CronJob and Secret deleted': async () => {
        const cronJobs = await managedCronJobs(ns.ctl, 'ledger');
        if (!ledgerDeleted) {
          if (cronJobs.length !== 1) return false;
          await objectApi.delete(
            {
              apiVersion: 'apps/v1',
              kind: 'StatefulSet',
              metadata: { name: 'ledger', namespace: ns.watched },
            },
            undefined,
            undefined,
            undefined,
            undefined,
            'Background',
          );
          ledgerDeleted = true;
        }
        const secrets = await core.listNamespacedSecret({
          namespace: ns.ctl,
          labelSelector: managed('ledger'),
        });
        return cronJobs.length === 0 && secrets.items.length === 0;
      },
    };

    for (const step of STEPS) {
      if (!(await until(stepTimeoutMs, gone, steps[step]))) return { failed: step, log };
    }
    await after?.(ns, kc);
    return { log };
  } finally {
    if (child) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    for (const name of [ns.ctl, ns.watched]) await orUndefined(core.deleteNamespace({ name }));
  }
}

function freshNamespaces(tag: string): Namespaces {
  const s = randomBytes(3).toString('hex');
  return { ctl: `sk-${tag}-c-${s}`, watched: `sk-${tag}-w-${s}` };
}

/** A rule of the chart's Roles, as `role/resources:verbs`. */
function ruleId(role: string, rule: { resources: string[]; verbs: string[] }): string {
  return `${role}/${rule.resources.join(',')}:${rule.verbs.join(',')}`;
}

/** Each rule of the chart's Roles, and the step that fails without it. */
const rules: { rule: string; fails: Step }[] = [
  {
    rule: 'control/cronjobs:get,list,watch,create,update,delete',
    fails: 'caches synced (/readyz)',
  },
  { rule: 'control/cronjobs:patch', fails: 'status recorded on the CronJob (last-success)' },
  { rule: 'control/jobs:list,watch', fails: 'finished Job reported (BackupSucceeded)' },
  { rule: 'control/pods:list', fails: 'finished Job reported (BackupSucceeded)' },
  { rule: 'control/secrets:get,list,watch,create,update,delete', fails: 'caches synced (/readyz)' },
  { rule: 'control/leases:get,create,update', fails: 'leader elected (Lease)' },
  { rule: 'control/configmaps:get', fails: 'caches synced (/readyz)' },
  { rule: 'watch/pods:list,watch', fails: 'caches synced (/readyz)' },
  { rule: 'watch/pods:get', fails: 'finished Job reported (BackupSucceeded)' },
  { rule: 'watch/services:list,watch', fails: 'caches synced (/readyz)' },
  { rule: 'watch/replicasets:get', fails: 'CronJob created' },
  {
    rule: 'watch/deployments,statefulsets,daemonsets:get',
    fails: 'StatefulSet deleted: CronJob and Secret deleted',
  },
  { rule: 'watch/jobs:get', fails: 'Job-owned workload tracked' },
  { rule: 'watch/cronjobs:get', fails: 'workload object deleted: CronJob and Secret deleted' },
  { rule: 'watch/secrets,configmaps:get', fails: 'CronJob created' },
  // The metadata-only informers of Secrets and ConfigMaps never list.
  { rule: 'watch/secrets,configmaps:list,watch', fails: 'caches synced (/readyz)' },
  { rule: 'watch/events:get,list,create,update', fails: 'BackupScheduled Event on the pod' },
];

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  dir = await mkdtemp(join(tmpdir(), 'snapkeeper-chart-rbac-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const roleOf = (r: Manifest) => r.metadata.name.replace(/^snapkeeper-/, '');

describe.concurrent('chart RBAC: the operator under exactly the chart Roles', () => {
  it('the table below names every rule of the chart Roles', async ({ expect }) => {
    const { objects } = await render({
      storage: { bucket: 'snapkeeper-test' },
      watchNamespaces: ['w'],
    });
    const rendered = objects
      .filter((o) => o.kind === 'Role')
      .flatMap((r) =>
        (r.rules as { resources: string[]; verbs: string[] }[]).map((x) => ruleId(roleOf(r), x)),
      );
    expect(rendered.sort()).toEqual(rules.map((r) => r.rule).sort());
  });

  it('completes the reconcile scenario, and cannot read Secrets where it does not watch', async ({
    expect,
  }) => {
    const other = `sk-other-${randomBytes(3).toString('hex')}`;
    await core.createNamespace({ body: { metadata: { name: other } } });
    try {
      await core.createNamespacedSecret({
        namespace: other,
        body: { metadata: { name: 'db' }, stringData: { password: 'elsewhere' } },
      });
      let checked = false;
      const run = await runScenario(
        freshNamespaces('ok'),
        () => {},
        60_000,
        async (ns, kc) => {
          const asOperator = kc.makeApiClient(CoreV1Api);
          // Where it does not watch: neither by name nor by listing.
          await expect(
            asOperator.readNamespacedSecret({ namespace: other, name: 'db' }),
          ).rejects.toMatchObject({ code: 403 });
          await expect(asOperator.listNamespacedSecret({ namespace: other })).rejects.toMatchObject(
            {
              code: 403,
            },
          );
          // Where it watches: by name, and a list (the metadata-only
          // informer needs it; RBAC cannot limit a list to metadata: the
          // trade-off documented in docs/operator.md).
          const listed = await asOperator.listNamespacedSecret({ namespace: ns.watched });
          expect(listed.items.map((s) => s.metadata?.name)).toContain('pg-credentials');
          const own = await asOperator.readNamespacedSecret({
            namespace: ns.watched,
            name: 'pg-credentials',
          });
          expect(own.metadata?.name).toBe('pg-credentials');
          checked = true;
        },
      );
      expect(run.failed, `operator log:\n${run.log}`).toBeUndefined();
      expect(checked).toBe(true);
      // Nothing secret in the operator's output.
      expect(run.log).not.toContain('pg-secret-password');
    } finally {
      await orUndefined(core.deleteNamespace({ name: other }));
    }
  });

  it.for(rules)('without the rule $rule, "$fails" fails', async ({ rule, fails }, { expect }) => {
    let removed = 0;
    const run = await runScenario(
      freshNamespaces('rule'),
      (roles) => {
        for (const r of roles) {
          const rs = r.rules as { resources: string[]; verbs: string[] }[];
          const i = rs.findIndex((x) => ruleId(roleOf(r), x) === rule);
          if (i >= 0) {
            rs.splice(i, 1);
            removed++;
          }
        }
      },
      20_000,
    );
    expect(removed, `the chart has the rule ${rule}`).toBe(1);
    expect(run.failed, `operator log:\n${run.log}`).toBe(fails);
    // ...because the API refused the operator, not for another reason.
    expect(run.log, 'the operator log shows the refusal').toMatch(/forbidden/i);
  });
});
