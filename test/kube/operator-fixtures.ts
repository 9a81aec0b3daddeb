// Shared by the operator suites: a workload chain built the way the
// Deployment controller builds it (Deployment → ReplicaSet → Pod with
// controller ownerReferences), an operator started in-process with its log
// and its API requests captured.
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1Pod,
  type V1PodTemplateSpec,
} from '@kubernetes/client-node';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { KubeInfo } from '../env/helpers.js';
import { kubeConfig, uniqueName } from '../env/helpers.js';
import { loadOperatorConfig, type OperatorConfig } from '../../src/config/operator.js';
import {
  startOperator,
  type OperatorOptions,
  type RunningOperator,
} from '../../src/controller/run.js';
import { WRITE_VERBS, type Verb } from '../../src/kube/api.js';
import { createLogger } from '../../src/log.js';

export const PASSWORD = 'S3cr3t-pa55w0rd-zz9';

export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function newNamespace(kube: KubeInfo, prefix: string): Promise<string> {
  const name = uniqueName(prefix)
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 50);
  await kubeConfig(kube)
    .makeApiClient(CoreV1Api)
    .createNamespace({ body: { metadata: { name } } });
  return name;
}

export interface Recorded {
  verb: Verb;
  resource: string;
  at: number;
}

export interface TestOperator {
  running: RunningOperator;
  config: OperatorConfig;
  requests: Recorded[];
  logs: string[];
  writes(since?: number, resources?: string[]): Recorded[];
}

export async function startTestOperator(
  kube: KubeInfo,
  env: Record<string, string>,
  tuning: OperatorOptions['tuning'] = {},
  resyncSeconds = 1,
): Promise<TestOperator> {
  const config = loadOperatorConfig({
    SNAPKEEPER_STORAGE: 's3://backups/cluster',
    SNAPKEEPER_HTTP_ADDRESS: '127.0.0.1:0',
    SNAPKEEPER_LEADER_ELECTION: 'false',
    ...env,
  });
  config.resyncSeconds = resyncSeconds;
  const requests: Recorded[] = [];
  const logs: string[] = [];
  const log = createLogger({ format: 'json', level: 'debug', write: (l) => logs.push(l) });
  const running = await startOperator({
    config,
    kubeConfig: kubeConfig(kube),
    log,
    onRequest: (verb, resource) => requests.push({ verb, resource, at: Date.now() }),
    tuning,
  });
  return {
    running,
    config,
    requests,
    logs,
    writes: (since = 0, resources) =>
      requests.filter(
        (r) =>
          r.at >= since &&
          WRITE_VERBS.has(r.verb) &&
          (!resources || resources.includes(r.resource)),
      ),
  };
}

/** Reconciles the operator has finished: its `snapkeeper_reconcile_duration_seconds_count`. */
export async function reconcileCount(op: TestOperator): Promise<number> {
  const samples = (await op.running.metrics.reconcileDuration.get()).values;
  return (
    samples.find((s) => s.metricName === 'snapkeeper_reconcile_duration_seconds_count')?.value ?? 0
  );
}

/**
 * Resolves once `n` reconciles that began after the call have finished,
 * whatever drove them (the resync timer, an informer event), by the reconcile
 * counter; returns how many finished in all meanwhile. The reconciles in
 * flight at the call are not counted towards `n`.
 */
export async function reconciled(op: TestOperator, n: number, timeoutMs = 20_000): Promise<number> {
  const inFlight = op.running.controller.queue.inFlight;
  const start = await reconcileCount(op);
  return eventually(
    `${n} more reconciles`,
    async () => {
      const done = (await reconcileCount(op)) - start;
      return done >= inFlight + n ? done : undefined;
    },
    timeoutMs,
    25,
  );
}

/**
 * `times` resyncs, each what the resync timer does (every known workload
 * queued), each run until the work queue is drained, without waiting for the
 * timer; returns the reconciles they made, by the counter. Make sure the
 * operator's caches have seen the change under test first (an informer's
 * `get`, the workload index): a resync reconciles what the caches hold.
 */
export async function resynced(op: TestOperator, times = 1): Promise<number> {
  const controller = op.running.controller;
  await controller.queue.drained();
  const start = await reconcileCount(op);
  for (let i = 0; i < times; i++) {
    controller.resync();
    await controller.queue.drained();
  }
  return (await reconcileCount(op)) - start;
}

/**
 * Waits until the operator's own writes have stopped echoing: a whole resync
 * that began after its last write (and the reconciles the echoes queued)
 * has run, and nothing was written meanwhile. A controller that writes on
 * every echo or every resync never settles, and this times out.
 */
export async function settled(op: TestOperator, timeoutMs = 20_000): Promise<void> {
  await eventually(
    'the operator to settle (a resync after its last write, writing nothing)',
    async () => {
      const writes = op.writes().length;
      await resynced(op);
      return op.writes().length === writes ? true : undefined;
    },
    timeoutMs,
    0,
  );
}

export interface Workload {
  deployment: string;
  replicaSet: string;
  pods: V1Pod[];
}

export function pgAnnotations(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'snapkeeper.io/enabled': 'true',
    'snapkeeper.io/type': 'postgresql',
    'snapkeeper.io/schedule': '0 3 * * *',
    'snapkeeper.io/timezone': 'Europe/Paris',
    ...extra,
  };
}

/** A credentials Secret and a Service selecting app=<app>. */
export async function createSupport(
  kc: KubeConfig,
  namespace: string,
  app: string,
  opts: { service?: boolean; secret?: boolean } = {},
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  if (opts.secret !== false) {
    await core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: `${app}-creds` }, stringData: { password: PASSWORD } },
    });
  }
  if (opts.service !== false) {
    await createService(kc, namespace, `${app}`, app);
  }
}

export async function createService(kc: KubeConfig, namespace: string, name: string, app: string) {
  await kc.makeApiClient(CoreV1Api).createNamespacedService({
    namespace,
    body: {
      metadata: { name },
      spec: { selector: { app }, ports: [{ name: 'postgres', port: 5432 }] },
    },
  });
}

/**
 * Deployment → ReplicaSet → pods, with the ownerReferences the controllers
 * would set. `app` is the pods' label and names the credentials Secret
 * (`<app>-creds`); the Deployment is named `name` (default: `app`).
 */
export async function createDeploymentChain(
  kc: KubeConfig,
  namespace: string,
  app: string,
  annotations: Record<string, string>,
  replicas = 1,
  name = app,
): Promise<Workload> {
  const apps = kc.makeApiClient(AppsV1Api);
  const labels = { app };
  const template = {
    metadata: { labels, annotations },
    spec: {
      containers: [
        {
          name: 'postgres',
          image: 'postgres:17',
          env: [
            { name: 'POSTGRES_USER', value: 'app' },
            { name: 'POSTGRES_DB', value: 'shop' },
            {
              name: 'POSTGRES_PASSWORD',
              valueFrom: { secretKeyRef: { name: `${app}-creds`, key: 'password' } },
            },
          ],
        },
      ],
    },
  };
  const dep = await apps.createNamespacedDeployment({
    namespace,
    body: {
      metadata: { name },
      spec: { replicas, selector: { matchLabels: labels }, template },
    },
  });
  const rsName = `${name}-7d9f8c6b5`;
  const rs = await apps.createNamespacedReplicaSet({
    namespace,
    body: {
      metadata: {
        name: rsName,
        labels,
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            name,
            uid: dep.metadata!.uid!,
            controller: true,
          },
        ],
      },
      spec: { replicas, selector: { matchLabels: labels }, template },
    },
  });
  const pods: V1Pod[] = [];
  for (let i = 0; i < replicas; i++) {
    pods.push(
      await createPod(
        kc,
        namespace,
        `${rsName}-p${i}`,
        rsName,
        rs.metadata!.uid!,
        annotations,
        template.spec,
        labels,
      ),
    );
  }
  return { deployment: name, replicaSet: rsName, pods };
}

export async function createPod(
  kc: KubeConfig,
  namespace: string,
  name: string,
  rsName: string,
  rsUid: string,
  annotations: Record<string, string>,
  spec: V1Pod['spec'],
  labels: Record<string, string>,
): Promise<V1Pod> {
  return kc.makeApiClient(CoreV1Api).createNamespacedPod({
    namespace,
    body: {
      metadata: {
        name,
        labels,
        annotations,
        ownerReferences: [
          { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rsName, uid: rsUid, controller: true },
        ],
      },
      spec: spec!,
    },
  });
}

/** Replace a pod's annotations (pods allow metadata updates). */
export async function setPodAnnotations(
  kc: KubeConfig,
  namespace: string,
  name: string,
  annotations: Record<string, string>,
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const pod = await core.readNamespacedPod({ namespace, name });
  pod.metadata!.annotations = annotations;
  await core.replaceNamespacedPod({ namespace, name, body: pod });
}

export async function podEvents(kc: KubeConfig, namespace: string, pod: string) {
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.name=${pod}`,
  });
  return list.items;
}

export interface StatefulWorkload {
  statefulSet: string;
  uid: string;
  template: V1PodTemplateSpec;
  pod: V1Pod;
}

/**
 * A one-replica StatefulSet and its pod `<name>-0`, with the ownerReference
 * the StatefulSet controller would set (that controller is off here: the test
 * plays it, e.g. recreates the pod after a restart with `createStatefulPod`).
 * The pods use `<app>-creds` like createDeploymentChain's.
 */
export async function createStatefulSetChain(
  kc: KubeConfig,
  namespace: string,
  app: string,
  annotations: Record<string, string>,
  name = app,
): Promise<StatefulWorkload> {
  const labels = { app };
  const template: V1PodTemplateSpec = {
    metadata: { labels, annotations },
    spec: {
      containers: [
        {
          name: 'postgres',
          image: 'postgres:17',
          env: [
            { name: 'POSTGRES_USER', value: 'app' },
            { name: 'POSTGRES_DB', value: 'shop' },
            {
              name: 'POSTGRES_PASSWORD',
              valueFrom: { secretKeyRef: { name: `${app}-creds`, key: 'password' } },
            },
          ],
        },
      ],
    },
  };
  const sts = await kc.makeApiClient(AppsV1Api).createNamespacedStatefulSet({
    namespace,
    body: {
      metadata: { name },
      spec: { replicas: 1, serviceName: app, selector: { matchLabels: labels }, template },
    },
  });
  const w = { statefulSet: name, uid: sts.metadata!.uid!, template };
  return { ...w, pod: await createStatefulPod(kc, namespace, w) };
}

/** The StatefulSet's pod `<name>-0`, as its controller (re)creates it. */
export async function createStatefulPod(
  kc: KubeConfig,
  namespace: string,
  w: Pick<StatefulWorkload, 'statefulSet' | 'uid' | 'template'>,
): Promise<V1Pod> {
  return kc.makeApiClient(CoreV1Api).createNamespacedPod({
    namespace,
    body: {
      metadata: {
        name: `${w.statefulSet}-0`,
        labels: { ...w.template.metadata?.labels },
        annotations: { ...w.template.metadata?.annotations },
        ownerReferences: [
          {
            apiVersion: 'apps/v1',
            kind: 'StatefulSet',
            name: w.statefulSet,
            uid: w.uid,
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
      },
      spec: w.template.spec!,
    },
  });
}

/**
 * A TCP relay to the apiserver that the test can cut: every open connection
 * is destroyed and new ones are refused until `restore()` (a network outage,
 * which no apiserver produces on request).
 */
export async function cuttableRelay(target: URL): Promise<{
  server: string;
  /** Connections accepted so far. */
  connections(): number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let down = false;
  let accepted = 0;
  const server: Server = createServer((client) => {
    if (down) return void client.destroy();
    accepted++;
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    server: `https://127.0.0.1:${port}`,
    connections: () => accepted,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
