// The operator under exactly the chart's RBAC: `node dist/cli.js operator`
// runs with a TokenRequest token of the chart's own ServiceAccount and
// completes the reconcile scenario; then, for each rule of the chart's Roles,
// the same scenario under the Roles minus that rule fails at a named step, so
// every permission is needed; and the operator cannot read Secrets in a
// namespace it does not watch.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exec, kubeConfig, kubeEnv, serviceAccountToken } from '../env/helpers.js';
import { repoRoot } from '../env/paths.js';
import { freePort } from '../env/servers/process.js';
import { render, type Manifest } from './chart-render.js';

const kube = inject('kube');
const kubectlBin = join(kube.binDir, 'kubectl');
const cli = join(repoRoot, 'dist', 'cli.js');
let dir: string;

async function kubectl(args: string[], input?: string): Promise<string> {
  const r = await exec(kubectlBin, args, { env: kubeEnv(kube), input });
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout.toString();
}

async function getJson<T = Manifest>(args: string[]): Promise<T | undefined> {
  const r = await exec(kubectlBin, ['get', ...args, '-o', 'json'], { env: kubeEnv(kube) });
  if (r.code !== 0) {
    if (r.stderr.includes('NotFound')) return undefined;
    throw new Error(`kubectl get ${args.join(' ')}: ${r.stderr.trim()}`);
  }
  return JSON.parse(r.stdout.toString()) as T;
}

const apply = (obj: unknown) => kubectl(['apply', '-f', '-'], JSON.stringify(obj));

/** The scenario's steps, in order; a run reports the first that did not happen. */
const STEPS = [
  'caches synced (/readyz)',
  'leader elected (Lease)',
  'CronJob created',
  'credentials Secret mirrored',
  'BackupScheduled Event on the pod',
  'Job-owned workload tracked',
  'finished Job reported (BackupSucceeded)',
  'annotation removed: CronJob and Secret deleted',
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
  await apply({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'pg-credentials', namespace: ns },
    stringData: { user: 'shop', password: 'pg-secret-password' },
  });
  await apply({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'pg-settings', namespace: ns },
    data: { database: 'shop' },
  });
  await apply({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'postgres', namespace: ns },
    spec: { selector: { app: 'postgres' }, ports: [{ name: 'postgres', port: 5432 }] },
  });
  const labels = { app: 'postgres' };
  const deployment =
    (await getJson(['-n', ns, 'deployment/postgres'])) ??
    JSON.parse(
      await kubectl(
        ['create', '-o', 'json', '-f', '-'],
        JSON.stringify({
          apiVersion: 'apps/v1',
          kind: 'Deployment',
          metadata: { name: 'postgres', namespace: ns },
          spec: {
            replicas: 1,
            selector: { matchLabels: labels },
            template: { metadata: { labels, annotations }, spec: { containers: [container] } },
          },
        }),
      ),
    );
  const owner = (o: Manifest, kind: string, apiVersion: string) => [
    { apiVersion, kind, name: o.metadata.name, uid: o.metadata.uid, controller: true },
  ];
  const rs = JSON.parse(
    await kubectl(
      ['create', '-o', 'json', '-f', '-'],
      JSON.stringify({
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
      }),
    ),
  ) as Manifest;
  await kubectl(
    ['create', '-f', '-'],
    JSON.stringify({
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
    }),
  );

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
  const cronJob = JSON.parse(
    await kubectl(
      ['create', '-o', 'json', '-f', '-'],
      JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'search', namespace: ns },
        spec: {
          schedule: '0 0 1 1 *',
          suspend: true,
          jobTemplate: { spec: { template: { metadata: { labels: esLabels }, spec: esPod } } },
        },
      }),
    ),
  ) as Manifest;
  const job = JSON.parse(
    await kubectl(
      ['create', '-o', 'json', '-f', '-'],
      JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {
          name: 'search-29000000',
          namespace: ns,
          ownerReferences: owner(cronJob, 'CronJob', 'batch/v1'),
        },
        // Not run by the Job controller (if one runs): the test plays it.
        spec: {
          managedBy: 'snapkeeper.test/none',
          template: { metadata: { labels: esLabels }, spec: esPod },
        },
      }),
    ),
  ) as Manifest;
  await kubectl(
    ['create', '-f', '-'],
    JSON.stringify({
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
    }),
  );
  await apply({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'search', namespace: ns },
    spec: { selector: esLabels, ports: [{ name: 'http', port: 9200 }] },
  });
}

const managed = (workload: string) =>
  `app.kubernetes.io/managed-by=snapkeeper,snapkeeper.io/workload-name=${workload}`;

async function listManaged(kind: string, ns: string, workload: string): Promise<Manifest[]> {
  const list = await getJson<{ items: Manifest[] }>(['-n', ns, kind, '-l', managed(workload)]);
  return list?.items ?? [];
}

/** Plays the Job controller and the kubelet: a finished backup Job of the operator's CronJob. */
async function finishBackupJob(ctl: string, cronJob: Manifest): Promise<void> {
  const spec = (cronJob.spec as { jobTemplate: { spec: { template: unknown } } }).jobTemplate.spec;
  const job = JSON.parse(
    await kubectl(
      ['create', '-o', 'json', '-f', '-'],
      JSON.stringify({
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: {
          name: `${cronJob.metadata.name}-29000001`,
          namespace: ctl,
          labels: cronJob.metadata.labels,
          ownerReferences: [
            {
              apiVersion: 'batch/v1',
              kind: 'CronJob',
              name: cronJob.metadata.name,
              uid: cronJob.metadata.uid,
              controller: true,
            },
          ],
        },
        spec: { ...spec, managedBy: 'snapkeeper.test/none' },
      }),
    ),
  ) as Manifest;
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
  const pod = JSON.parse(
    await kubectl(
      ['create', '-o', 'json', '-f', '-'],
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: {
          name: `${job.metadata.name}-pq7rs`,
          namespace: ctl,
          labels: {
            'batch.kubernetes.io/controller-uid': job.metadata.uid,
            'batch.kubernetes.io/job-name': job.metadata.name,
          },
          ownerReferences: [
            {
              apiVersion: 'batch/v1',
              kind: 'Job',
              name: job.metadata.name,
              uid: job.metadata.uid,
              controller: true,
            },
          ],
        },
        spec: { containers: [{ name: 'dump', image: 'dumper' }], restartPolicy: 'Never' },
      }),
    ),
  ) as Manifest;
  await kubectl([
    '-n',
    ctl,
    'patch',
    'pod',
    pod.metadata.name,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({
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
    }),
  ]);
  await kubectl([
    '-n',
    ctl,
    'patch',
    'job',
    job.metadata.name,
    '--subresource=status',
    '--type=merge',
    '-p',
    JSON.stringify({
      status: {
        startTime: started,
        completionTime: finished,
        succeeded: 1,
        conditions: [
          { type: 'SuccessCriteriaMet', status: 'True', lastTransitionTime: finished },
          { type: 'Complete', status: 'True', lastTransitionTime: finished },
        ],
      },
    }),
  ]);
}

async function eventsFor(ns: string, pod: string, reason: string): Promise<Manifest[]> {
  const list = await getJson<{ items: Manifest[] }>([
    '-n',
    ns,
    'events',
    '--field-selector',
    `involvedObject.name=${pod},reason=${reason}`,
  ]);
  return list?.items ?? [];
}

/**
 * The chart's objects for namespaces `ns`, with `mutate` applied to its Roles,
 * installed as admin; then the operator runs as the chart's ServiceAccount
 * through the scenario. Returns the first step that did not happen.
 */
async function runScenario(
  ns: Namespaces,
  mutate: (roles: Manifest[]) => void,
  stepTimeoutMs: number,
): Promise<RunResult> {
  const { objects } = await render(
    { storage: { bucket: 'snapkeeper-test' }, watchNamespaces: [ns.watched] },
    { namespace: ns.ctl },
  );
  mutate(objects.filter((o) => o.kind === 'Role'));
  for (const n of [ns.ctl, ns.watched]) await kubectl(['create', 'namespace', n]);
  // Everything but the Deployment: the test runs the operator itself.
  for (const o of objects.filter((o) => o.kind !== 'Deployment')) await apply(o);
  await createWorkloads(ns.watched);

  const token = await serviceAccountToken(kube, ns.ctl, 'snapkeeper');
  const kc: KubeConfig = kubeConfig(kube, token);
  const kubeconfigFile = join(dir, `${ns.ctl}.kubeconfig`);
  await writeFile(kubeconfigFile, kc.exportConfig(), { mode: 0o600 });
  const port = await freePort();
  const config = (
    objects.find((o) => o.kind === 'ConfigMap') as Manifest & { data: Record<string, string> }
  ).data;
  const child: ChildProcess = spawn(process.execPath, [cli, 'operator'], {
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
  let log = '';
  child.stdout?.on('data', (b: Buffer) => (log += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (log += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));

  const steps: Record<Step, () => Promise<boolean>> = {
    'caches synced (/readyz)': async () =>
      (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200,
    'leader elected (Lease)': async () => {
      const lease = await getJson<{ spec?: { holderIdentity?: string } }>([
        '-n',
        ns.ctl,
        'lease',
        'snapkeeper-leader',
      ]);
      return lease?.spec?.holderIdentity === 'operator-under-test';
    },
    'CronJob created': async () => (await listManaged('cronjobs', ns.ctl, 'postgres')).length === 1,
    'credentials Secret mirrored': async () => {
      const [s] = (await listManaged('secrets', ns.ctl, 'postgres')) as (Manifest & {
        data?: Record<string, string>;
      })[];
      return Buffer.from(s?.data?.password ?? '', 'base64').toString() === 'pg-secret-password';
    },
    'BackupScheduled Event on the pod': async () =>
      (await eventsFor(ns.watched, 'postgres-7d9f8-x2v4q', 'BackupScheduled')).length > 0,
    'Job-owned workload tracked': async () =>
      (await listManaged('cronjobs', ns.ctl, 'search')).length === 1,
    'finished Job reported (BackupSucceeded)': async () => {
      const [cj] = await listManaged('cronjobs', ns.ctl, 'postgres');
      if (!cj) return false;
      if (!(await getJson(['-n', ns.ctl, 'job', `${cj.metadata.name}-29000001`])))
        await finishBackupJob(ns.ctl, cj);
      return (await eventsFor(ns.watched, 'postgres-7d9f8-x2v4q', 'BackupSucceeded')).length > 0;
    },
    'annotation removed: CronJob and Secret deleted': async () => {
      const pod = await getJson<Manifest & { metadata: { annotations?: Record<string, string> } }>([
        '-n',
        ns.watched,
        'pod/postgres-7d9f8-x2v4q',
      ]);
      if (pod?.metadata.annotations?.['snapkeeper.io/enabled'] === 'true') {
        await kubectl([
          '-n',
          ns.watched,
          'annotate',
          'pod/postgres-7d9f8-x2v4q',
          'snapkeeper.io/enabled-',
        ]);
      }
      return (
        (await listManaged('cronjobs', ns.ctl, 'postgres')).length === 0 &&
        (await listManaged('secrets', ns.ctl, 'postgres')).length === 0
      );
    },
  };

  try {
    for (const step of STEPS) {
      const gone = () => child.exitCode !== null || child.signalCode !== null;
      if (!(await until(stepTimeoutMs, gone, steps[step]))) return { failed: step, log };
    }
    return { log };
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
    for (const n of [ns.ctl, ns.watched])
      await exec(kubectlBin, ['delete', 'namespace', n, '--wait=false'], { env: kubeEnv(kube) });
  }
}

function freshNamespaces(tag: string): Namespaces {
  const s = randomBytes(3).toString('hex');
  return { ctl: `sk-${tag}-c-${s}`, watched: `sk-${tag}-w-${s}` };
}

/** Each rule of the chart's Roles, and the step that fails without it. */
const rules: { role: 'control' | 'watch'; resources: string; fails: Step }[] = [
  { role: 'control', resources: 'cronjobs', fails: 'caches synced (/readyz)' },
  { role: 'control', resources: 'jobs', fails: 'finished Job reported (BackupSucceeded)' },
  { role: 'control', resources: 'pods', fails: 'finished Job reported (BackupSucceeded)' },
  { role: 'control', resources: 'secrets', fails: 'caches synced (/readyz)' },
  { role: 'control', resources: 'leases', fails: 'leader elected (Lease)' },
  { role: 'watch', resources: 'pods', fails: 'caches synced (/readyz)' },
  { role: 'watch', resources: 'services', fails: 'caches synced (/readyz)' },
  { role: 'watch', resources: 'replicasets', fails: 'CronJob created' },
  { role: 'watch', resources: 'jobs', fails: 'Job-owned workload tracked' },
  { role: 'watch', resources: 'secrets,configmaps', fails: 'CronJob created' },
  { role: 'watch', resources: 'events', fails: 'BackupScheduled Event on the pod' },
];

beforeAll(async () => {
  if (!existsSync(cli)) throw new Error('dist/cli.js is missing: run `npm run build` first');
  dir = await mkdtemp(join(tmpdir(), 'snapkeeper-chart-rbac-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('chart RBAC: the operator under exactly the chart Roles', () => {
  it('the table below names every rule of the chart Roles', async () => {
    const { objects } = await render({
      storage: { bucket: 'snapkeeper-test' },
      watchNamespaces: ['w'],
    });
    const rendered = objects
      .filter((o) => o.kind === 'Role')
      .flatMap((r) =>
        (r.rules as { resources: string[] }[]).map(
          (x) => `${r.metadata.name.replace('snapkeeper-', '')}/${x.resources.join(',')}`,
        ),
      );
    expect(rendered.sort()).toEqual(rules.map((r) => `${r.role}/${r.resources}`).sort());
  });

  it('completes the reconcile scenario, and cannot read Secrets where it does not watch', async () => {
    const ns = freshNamespaces('ok');
    const other = `sk-other-${randomBytes(3).toString('hex')}`;
    const run = await runScenario(ns, () => {}, 60_000);
    expect(run.failed, `operator log:\n${run.log}`).toBeUndefined();
    // Nothing secret in the operator's output.
    expect(run.log).not.toContain('pg-secret-password');

    await kubectl(['create', 'namespace', other]);
    try {
      await kubectl([
        '-n',
        other,
        'create',
        'secret',
        'generic',
        'db',
        '--from-literal=password=elsewhere',
      ]);
      const asOperator = kubeConfig(
        kube,
        await serviceAccountToken(kube, ns.ctl, 'snapkeeper'),
      ).makeApiClient(CoreV1Api);
      await expect(
        asOperator.readNamespacedSecret({ namespace: other, name: 'db' }),
      ).rejects.toMatchObject({ code: 403 });
      await expect(
        asOperator.listNamespacedSecret({ namespace: ns.watched }),
      ).rejects.toMatchObject({ code: 403 });
      // ...while the same token reads a Secret of the watched namespace by name.
      const own = await asOperator.readNamespacedSecret({
        namespace: ns.watched,
        name: 'pg-credentials',
      });
      expect(own.metadata?.name).toBe('pg-credentials');
    } finally {
      await exec(kubectlBin, ['delete', 'namespace', other, '--wait=false'], {
        env: kubeEnv(kube),
      });
    }
  });

  it.each(rules)(
    'without the $role rule on $resources, "$fails" fails',
    async ({ role, resources, fails }) => {
      const ns = freshNamespaces('rule');
      let removed = 0;
      const run = await runScenario(
        ns,
        (roles) => {
          for (const r of roles.filter((r) => r.metadata.name === `snapkeeper-${role}`)) {
            const rs = r.rules as { resources: string[] }[];
            const i = rs.findIndex((x) => x.resources.join(',') === resources);
            if (i >= 0) {
              rs.splice(i, 1);
              removed++;
            }
          }
        },
        20_000,
      );
      expect(removed, `the chart has a ${role} rule on ${resources}`).toBe(1);
      expect(run.failed, `operator log:\n${run.log}`).toBe(fails);
    },
  );
});
