// The annotated workloads the kube suites and the operator bench create: a
// PostgreSQL workload built the way its controller builds it (Deployment →
// ReplicaSet → Pod, or StatefulSet → Pod, with controller ownerReferences),
// its credentials Secret and its Service. The Deployment, ReplicaSet and
// StatefulSet controllers are off in the test control plane, so the chain is
// made here. Only @kubernetes/client-node: the bench bundles this file.
import {
  AppsV1Api,
  CoreV1Api,
  type KubeConfig,
  type V1Pod,
  type V1PodSpec,
  type V1PodTemplateSpec,
} from '@kubernetes/client-node';

/** What the builders need of a KubeConfig (the bench passes its connection pool). */
export type ApiClients = Pick<KubeConfig, 'makeApiClient'>;

/** The password in every workload's credentials Secret `<app>-creds`. */
export const PASSWORD = 'S3cr3t-pa55w0rd-zz9';

export function pgAnnotations(extra: Record<string, string> = {}): Record<string, string> {
  return {
    'snapkeeper.io/enabled': 'true',
    'snapkeeper.io/type': 'postgresql',
    'snapkeeper.io/schedule': '0 3 * * *',
    'snapkeeper.io/timezone': 'Europe/Paris',
    ...extra,
  };
}

export async function createNamespace(kc: ApiClients, name: string): Promise<void> {
  await kc.makeApiClient(CoreV1Api).createNamespace({ body: { metadata: { name } } });
}

/**
 * A credentials Secret `<app>-creds` and a Service `<app>` selecting app=<app>;
 * `headless` makes the Service headless (the test apiserver's Service range
 * has 254 addresses).
 */
export async function createSupport(
  kc: ApiClients,
  namespace: string,
  app: string,
  opts: { service?: boolean; secret?: boolean; headless?: boolean } = {},
): Promise<void> {
  if (opts.secret !== false) {
    await kc.makeApiClient(CoreV1Api).createNamespacedSecret({
      namespace,
      body: { metadata: { name: `${app}-creds` }, stringData: { password: PASSWORD } },
    });
  }
  if (opts.service !== false) {
    await createService(kc, namespace, app, app, opts.headless);
  }
}

export async function createService(
  kc: ApiClients,
  namespace: string,
  name: string,
  app: string,
  headless = false,
) {
  await kc.makeApiClient(CoreV1Api).createNamespacedService({
    namespace,
    body: {
      metadata: { name },
      spec: {
        ...(headless ? { clusterIP: 'None' } : {}),
        selector: { app },
        ports: [{ name: 'postgres', port: 5432 }],
      },
    },
  });
}

/** A PostgreSQL pod template labelled app=<app>, its password from `<app>-creds`. */
function pgTemplate(app: string, annotations: Record<string, string>) {
  const spec: V1PodSpec = {
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
  };
  return { metadata: { labels: { app }, annotations }, spec };
}

export interface Workload {
  deployment: string;
  replicaSet: string;
  pods: V1Pod[];
}

/**
 * Deployment → ReplicaSet → pods, with the ownerReferences the controllers
 * would set. `app` is the pods' label and names the credentials Secret
 * (`<app>-creds`); the Deployment is named `name` (default: `app`).
 */
export async function createDeploymentChain(
  kc: ApiClients,
  namespace: string,
  app: string,
  annotations: Record<string, string>,
  replicas = 1,
  name = app,
): Promise<Workload> {
  const apps = kc.makeApiClient(AppsV1Api);
  const template = pgTemplate(app, annotations);
  const labels = template.metadata.labels;
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
  kc: ApiClients,
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
  kc: ApiClients,
  namespace: string,
  name: string,
  annotations: Record<string, string>,
): Promise<void> {
  const core = kc.makeApiClient(CoreV1Api);
  const pod = await core.readNamespacedPod({ namespace, name });
  pod.metadata!.annotations = annotations;
  await core.replaceNamespacedPod({ namespace, name, body: pod });
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
  kc: ApiClients,
  namespace: string,
  app: string,
  annotations: Record<string, string>,
  name = app,
): Promise<StatefulWorkload> {
  const template: V1PodTemplateSpec = pgTemplate(app, annotations);
  const sts = await kc.makeApiClient(AppsV1Api).createNamespacedStatefulSet({
    namespace,
    body: {
      metadata: { name },
      spec: {
        replicas: 1,
        serviceName: app,
        selector: { matchLabels: { app } },
        template,
      },
    },
  });
  const w = { statefulSet: name, uid: sts.metadata!.uid!, template };
  return { ...w, pod: await createStatefulPod(kc, namespace, w) };
}

/** The StatefulSet's pod `<name>-0`, as its controller (re)creates it. */
export async function createStatefulPod(
  kc: ApiClients,
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
