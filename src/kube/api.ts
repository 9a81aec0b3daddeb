import {
  AppsV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  Watch,
  type CoreV1Event,
  type KubeConfig,
  type KubernetesObject,
  type V1ConfigMap,
  type V1CronJob,
  type V1DaemonSet,
  type V1Deployment,
  type V1Job,
  type V1Lease,
  type V1Pod,
  type V1ReplicaSet,
  type V1Secret,
  type V1Service,
  type V1StatefulSet,
} from '@kubernetes/client-node';
import { KubeClients, readLines } from './client.js';
import { orUndefined } from './errors.js';

/**
 * The thin layer between snapkeeper and the Kubernetes API. Everything the
 * operator does to the API goes through one of these narrow interfaces, and
 * every request is reported to `onRequest` (verb + resource) before it is
 * sent: that feeds `snapkeeper_kube_api_requests_total{verb}` and lets tests
 * count writes.
 */
export const Verbs = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] as const;
export type Verb = (typeof Verbs)[number];
export const WRITE_VERBS: ReadonlySet<Verb> = new Set(['create', 'update', 'patch', 'delete']);

export type RequestListener = (verb: Verb, resource: string) => void;

/** An object as PartialObjectMetadata: kind, apiVersion and metadata, nothing else. */
export type V1PartialObjectMetadata = KubernetesObject;

export interface ListResult<T> {
  items: T[];
  resourceVersion: string;
}

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/** What an informer needs: a list, and a watch from a resourceVersion. */
export interface ListWatchSource<T extends KubernetesObject> {
  readonly description: string;
  list(): Promise<ListResult<T>>;
  /**
   * Starts a watch; `onEvent` per event, `onDone` once when it ends (null on
   * a clean server-side close). Returns a function that aborts it.
   */
  watch(
    resourceVersion: string,
    onEvent: (event: WatchEvent<T>) => void,
    onDone: (err: unknown) => void,
  ): Promise<() => void>;
}

/** The object a workload key names: what decides whether the workload still exists. */
export type WorkloadObject =
  V1Deployment | V1StatefulSet | V1DaemonSet | V1ReplicaSet | V1Job | V1CronJob | V1Pod;

/** Reads done at reconcile time (owners and the referenced Secrets/ConfigMaps). */
export interface ReadApi {
  getReplicaSet(namespace: string, name: string): Promise<V1ReplicaSet | undefined>;
  getJob(namespace: string, name: string): Promise<V1Job | undefined>;
  getSecret(namespace: string, name: string): Promise<V1Secret | undefined>;
  getConfigMap(namespace: string, name: string): Promise<V1ConfigMap | undefined>;
  /**
   * The workload object itself (Deployment, StatefulSet, DaemonSet,
   * ReplicaSet, Job, CronJob, or the bare Pod), read fresh from the API;
   * undefined when it does not exist (404).
   */
  getWorkload(namespace: string, kind: string, name: string): Promise<WorkloadObject | undefined>;
  /** The Jobs of a namespace (the control namespace: backup Jobs, at cleanup). */
  listJobs(namespace: string): Promise<V1Job[]>;
  /** One pod (the status controller: the source pod its Events are about). */
  getPod(namespace: string, name: string): Promise<V1Pod | undefined>;
  /** The pods of a namespace matching a label selector (the status controller: a Job's pods). */
  listPods(namespace: string, labelSelector: string): Promise<V1Pod[]>;
}

/** How the dependents of a deleted object are treated (Kubernetes propagationPolicy). */
export type Propagation = 'Background' | 'Orphan';

/** Writes on one kind of object snapkeeper owns (CronJob, Secret). */
export interface ObjectWriter<T extends KubernetesObject> {
  readonly kind: string;
  get(namespace: string, name: string): Promise<T | undefined>;
  create(obj: T): Promise<T>;
  /** Replace with optimistic concurrency: obj.metadata.resourceVersion must be set. */
  replace(obj: T): Promise<T>;
  /** Delete, guarded by resourceVersion when given; dependents by `propagation` (default Background). */
  delete(
    namespace: string,
    name: string,
    resourceVersion?: string,
    propagation?: Propagation,
  ): Promise<void>;
}

/**
 * A JSON merge patch of one object's metadata; src/apply's patchAnnotations
 * is its one caller (the status record on a CronJob).
 */
export interface MetadataPatcher<T extends KubernetesObject> {
  readonly kind: string;
  /**
   * Sets (a string) or removes (null) exactly these annotations, nothing
   * else; with `resourceVersion`, only if the object is still at it (else 409).
   */
  patchMetadata(
    namespace: string,
    name: string,
    metadata: { resourceVersion?: string; annotations: Record<string, string | null> },
  ): Promise<T>;
}

export interface EventApi {
  create(namespace: string, event: CoreV1Event): Promise<CoreV1Event>;
  get(namespace: string, name: string): Promise<CoreV1Event | undefined>;
  replace(namespace: string, event: CoreV1Event): Promise<CoreV1Event>;
  list(namespace: string, fieldSelector: string): Promise<CoreV1Event[]>;
}

export interface LeaseApi {
  get(namespace: string, name: string): Promise<V1Lease | undefined>;
  create(lease: V1Lease): Promise<V1Lease>;
  replace(lease: V1Lease): Promise<V1Lease>;
}

export interface KubeApi {
  read: ReadApi;
  cronJobs: ObjectWriter<V1CronJob> & MetadataPatcher<V1CronJob>;
  secrets: ObjectWriter<V1Secret>;
  events: EventApi;
  leases: LeaseApi;
  pods(namespace: string): ListWatchSource<V1Pod>;
  services(namespace: string): ListWatchSource<V1Service>;
  /** Every Job of a namespace (the status controller: the control namespace's backup Jobs). */
  jobs(namespace: string): ListWatchSource<V1Job>;
  /**
   * The CronJobs snapkeeper owns, whole: the status controller also reads
   * their schedule (the operator's cache keeps only what it reads of them,
   * src/controller/caches.ts).
   */
  ownedCronJobs(namespace: string, labelSelector: string): ListWatchSource<V1CronJob>;
  /**
   * The Secrets snapkeeper owns, metadata only: the write path decides on
   * labels, annotations (the spec hash) and resourceVersion, so the mirrored
   * credentials are never held.
   */
  ownedSecrets(namespace: string, labelSelector: string): ListWatchSource<V1PartialObjectMetadata>;
  /**
   * Metadata only (PartialObjectMetadata: name, resourceVersion, labels, no
   * data) of every Secret / ConfigMap of a namespace: what changed, not what
   * it holds. Needs list + watch on them.
   */
  secretsMetadata(namespace: string): ListWatchSource<V1PartialObjectMetadata>;
  configMapsMetadata(namespace: string): ListWatchSource<V1PartialObjectMetadata>;
  /** Closes the pooled connections (at shutdown). */
  close(): void;
}

function nameOf(obj: KubernetesObject): { namespace: string; name: string } {
  return { namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' };
}

/**
 * Server-side watch timeout, randomised like client-go (5–10 min) so that
 * many watches do not all reconnect at once.
 */
function watchTimeoutSeconds(): number {
  return 300 + Math.floor(Math.random() * 300);
}

/**
 * A list/watch source on one collection: counts each list and watch as a
 * request, watches with bookmarks from the listed resourceVersion, with the
 * label selector (when given) on both.
 */
export function listWatchSource<T extends KubernetesObject>(
  watcher: Watch,
  onRequest: RequestListener,
  resource: string,
  path: string,
  list: () => Promise<{ items: T[]; metadata?: { resourceVersion?: string } }>,
  labelSelector?: string,
): ListWatchSource<T> {
  return {
    description: `${resource} ${path}${labelSelector ? ` (${labelSelector})` : ''}`,
    async list() {
      onRequest('list', resource);
      const res = await list();
      return { items: res.items.map(slim), resourceVersion: res.metadata?.resourceVersion ?? '' };
    },
    async watch(resourceVersion, onEvent, onDone) {
      onRequest('watch', resource);
      const params: Record<string, string | number | boolean> = {
        resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: watchTimeoutSeconds(),
      };
      if (labelSelector) params.labelSelector = labelSelector;
      const controller = await watcher.watch(
        path,
        params,
        (type, object) =>
          onEvent({ type: type as WatchEvent<T>['type'], object: slim(object as T) }),
        onDone,
      );
      return () => controller.abort();
    },
  };
}

const METADATA_LIST = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1';
const METADATA = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1';
/** Page size of an informer's list (a namespace may hold thousands of Secrets). */
const LIST_PAGE = 500;

/** Without managedFields (often the larger part of an object's metadata; never read here). */
function slim<T extends KubernetesObject>(obj: T): T {
  if (obj.metadata?.managedFields) delete obj.metadata.managedFields;
  return obj;
}

/** A whole collection as plain JSON, listed in pages; `onNextPage` before each page after the first. */
async function pagedList<T extends KubernetesObject>(
  clients: KubeClients,
  path: string,
  labelSelector: string | undefined,
  onNextPage: () => void,
): Promise<{ items: T[]; metadata: { resourceVersion: string } }> {
  const items: T[] = [];
  let next: string | undefined;
  let resourceVersion = '';
  do {
    if (next) onNextPage();
    const page = await clients.getJson<{
      items?: T[];
      metadata?: { resourceVersion?: string; continue?: string };
    }>(path, { labelSelector, limit: LIST_PAGE, continue: next }, { Accept: 'application/json' });
    for (const item of page.items ?? []) items.push(slim(item));
    resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    next = page.metadata?.continue || undefined;
  } while (next);
  return { items, metadata: { resourceVersion } };
}

/**
 * A list/watch source of the metadata only of one collection: the apiserver
 * answers PartialObjectMetadata(List) when asked by the Accept header, so no
 * Secret's data ever reaches this process through it. Listed in pages.
 */
export function metadataSource(
  clients: KubeClients,
  onRequest: RequestListener,
  resource: string,
  path: string,
  labelSelector?: string,
): ListWatchSource<V1PartialObjectMetadata> {
  return {
    description: `${resource} ${path} (metadata${labelSelector ? `, ${labelSelector}` : ''})`,
    async list() {
      const items: V1PartialObjectMetadata[] = [];
      let next: string | undefined;
      let resourceVersion = '';
      do {
        onRequest('list', resource);
        const page = await clients.getJson<{
          items?: V1PartialObjectMetadata[];
          metadata?: { resourceVersion?: string; continue?: string };
        }>(path, { labelSelector, limit: LIST_PAGE, continue: next }, { Accept: METADATA_LIST });
        for (const item of page.items ?? []) items.push(slim(item));
        resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
        next = page.metadata?.continue || undefined;
      } while (next);
      return { items, resourceVersion };
    },
    async watch(resourceVersion, onEvent, onDone) {
      onRequest('watch', resource);
      const abort = new AbortController();
      const res = await clients.get(
        path,
        {
          watch: true,
          labelSelector,
          resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: watchTimeoutSeconds(),
        },
        { Accept: METADATA },
        { stream: true, signal: abort.signal },
      );
      readLines(
        res,
        (line) => {
          const e = line as { type?: string; object?: V1PartialObjectMetadata };
          if (e.type && e.object)
            onEvent({
              type: e.type as WatchEvent<V1PartialObjectMetadata>['type'],
              object: slim(e.object),
            });
        },
        (err) => onDone(abort.signal.aborted ? null : err),
      );
      return () => {
        abort.abort();
        res.destroy();
      };
    },
  };
}

const coreNs = (namespace: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
const batchNs = (namespace: string) => `/apis/batch/v1/namespaces/${encodeURIComponent(namespace)}`;
/** The object with its apiVersion and kind (the builders may leave them to the client). */
const typed = <T extends KubernetesObject>(obj: T, apiVersion: string, kind: string): T => ({
  ...obj,
  apiVersion: obj.apiVersion ?? apiVersion,
  kind: obj.kind ?? kind,
});

export function createKubeApi(kc: KubeConfig, onRequest: RequestListener = () => {}): KubeApi {
  const clients = new KubeClients(kc);
  const core = clients.make(CoreV1Api);
  const apps = clients.make(AppsV1Api);
  const batch = clients.make(BatchV1Api);
  const coordination = clients.make(CoordinationV1Api);
  const watcher = new Watch(kc);
  const count = (verb: Verb, resource: string) => onRequest(verb, resource);
  // Informer lists are read as plain JSON, in pages, like their watch events:
  // the generated client's typed deserialization costs CPU and memory for
  // every field of every object, for nothing the caches use.
  const source = <T extends KubernetesObject>(
    resource: string,
    path: string,
    labelSelector?: string,
  ) =>
    listWatchSource<T>(
      watcher,
      count,
      resource,
      path,
      // listWatchSource counts the first page; further pages are requests too.
      () => pagedList<T>(clients, path, labelSelector, () => count('list', resource)),
      labelSelector,
    );

  return {
    read: {
      getReplicaSet: (namespace, name) => {
        count('get', 'replicasets');
        return orUndefined(apps.readNamespacedReplicaSet({ namespace, name }));
      },
      getJob: (namespace, name) => {
        count('get', 'jobs');
        return orUndefined(batch.readNamespacedJob({ namespace, name }));
      },
      getSecret: (namespace, name) => {
        count('get', 'secrets');
        return orUndefined(clients.json<V1Secret>('GET', `${coreNs(namespace)}/secrets/${name}`));
      },
      getConfigMap: (namespace, name) => {
        count('get', 'configmaps');
        return orUndefined(
          clients.json<V1ConfigMap>('GET', `${coreNs(namespace)}/configmaps/${name}`),
        );
      },
      getWorkload: (namespace, kind, name): Promise<WorkloadObject | undefined> => {
        const args = { namespace, name };
        switch (kind) {
          case 'Deployment':
            count('get', 'deployments');
            return orUndefined(apps.readNamespacedDeployment(args));
          case 'StatefulSet':
            count('get', 'statefulsets');
            return orUndefined(apps.readNamespacedStatefulSet(args));
          case 'DaemonSet':
            count('get', 'daemonsets');
            return orUndefined(apps.readNamespacedDaemonSet(args));
          case 'ReplicaSet':
            count('get', 'replicasets');
            return orUndefined(apps.readNamespacedReplicaSet(args));
          case 'Job':
            count('get', 'jobs');
            return orUndefined(batch.readNamespacedJob(args));
          case 'CronJob':
            count('get', 'cronjobs');
            return orUndefined(batch.readNamespacedCronJob(args));
          case 'Pod':
            count('get', 'pods');
            return orUndefined(core.readNamespacedPod(args));
          default:
            return Promise.reject(new Error(`unknown workload kind ${kind}`));
        }
      },
      listJobs: async (namespace) => {
        count('list', 'jobs');
        return (await batch.listNamespacedJob({ namespace })).items;
      },
      getPod: (namespace, name) => {
        count('get', 'pods');
        return orUndefined(clients.json<V1Pod>('GET', `${coreNs(namespace)}/pods/${name}`));
      },
      listPods: async (namespace, labelSelector) => {
        count('list', 'pods');
        const res = await clients.getJson<{ items?: V1Pod[] }>(
          `${coreNs(namespace)}/pods`,
          { labelSelector },
          { Accept: 'application/json' },
        );
        return (res.items ?? []).map(slim);
      },
    },
    cronJobs: {
      kind: 'CronJob',
      get: (namespace, name) => {
        count('get', 'cronjobs');
        return orUndefined(batch.readNamespacedCronJob({ namespace, name }));
      },
      create: (body) => {
        count('create', 'cronjobs');
        return clients.json<V1CronJob>(
          'POST',
          `${batchNs(nameOf(body).namespace)}/cronjobs`,
          typed(body, 'batch/v1', 'CronJob'),
        );
      },
      replace: (body) => {
        count('update', 'cronjobs');
        const { namespace, name } = nameOf(body);
        return clients.json<V1CronJob>(
          'PUT',
          `${batchNs(namespace)}/cronjobs/${name}`,
          typed(body, 'batch/v1', 'CronJob'),
        );
      },
      patchMetadata: (namespace, name, metadata) => {
        count('patch', 'cronjobs');
        return clients.json<V1CronJob>(
          'PATCH',
          `${batchNs(namespace)}/cronjobs/${name}`,
          { metadata },
          {
            query: { fieldManager: 'snapkeeper-status' },
            contentType: 'application/merge-patch+json',
          },
        );
      },
      delete: async (namespace, name, resourceVersion, propagation = 'Background') => {
        count('delete', 'cronjobs');
        await batch.deleteNamespacedCronJob({
          namespace,
          name,
          // Background: the CronJob's Jobs go with it (a running backup is
          // stopped). Orphan: its Jobs stay and finish; their
          // ttlSecondsAfterFinished removes them. Stored backups never go.
          body: {
            propagationPolicy: propagation,
            ...(resourceVersion ? { preconditions: { resourceVersion } } : {}),
          },
        });
      },
    },
    secrets: {
      kind: 'Secret',
      get: (namespace, name) => {
        count('get', 'secrets');
        return orUndefined(core.readNamespacedSecret({ namespace, name }));
      },
      create: (body) => {
        count('create', 'secrets');
        return clients.json<V1Secret>(
          'POST',
          `${coreNs(nameOf(body).namespace)}/secrets`,
          typed(body, 'v1', 'Secret'),
        );
      },
      replace: (body) => {
        count('update', 'secrets');
        const { namespace, name } = nameOf(body);
        return clients.json<V1Secret>(
          'PUT',
          `${coreNs(namespace)}/secrets/${name}`,
          typed(body, 'v1', 'Secret'),
        );
      },
      delete: async (namespace, name, resourceVersion) => {
        count('delete', 'secrets');
        await core.deleteNamespacedSecret({
          namespace,
          name,
          ...(resourceVersion ? { body: { preconditions: { resourceVersion } } } : {}),
        });
      },
    },
    events: {
      create: (namespace, body) => {
        count('create', 'events');
        return clients.json<CoreV1Event>(
          'POST',
          `${coreNs(namespace)}/events`,
          typed(body, 'v1', 'Event'),
        );
      },
      get: (namespace, name) => {
        count('get', 'events');
        return orUndefined(core.readNamespacedEvent({ namespace, name }));
      },
      replace: (namespace, body) => {
        count('update', 'events');
        return core.replaceNamespacedEvent({ namespace, name: body.metadata?.name ?? '', body });
      },
      list: async (namespace, fieldSelector) => {
        count('list', 'events');
        return (await core.listNamespacedEvent({ namespace, fieldSelector })).items;
      },
    },
    leases: {
      get: (namespace, name) => {
        count('get', 'leases');
        return orUndefined(coordination.readNamespacedLease({ namespace, name }));
      },
      create: (body) => {
        count('create', 'leases');
        return coordination.createNamespacedLease({ namespace: nameOf(body).namespace, body });
      },
      replace: (body) => {
        count('update', 'leases');
        return coordination.replaceNamespacedLease({ ...nameOf(body), body });
      },
    },
    pods: (namespace) => source<V1Pod>('pods', `/api/v1/namespaces/${namespace}/pods`),
    services: (namespace) =>
      source<V1Service>('services', `/api/v1/namespaces/${namespace}/services`),
    jobs: (namespace) => source<V1Job>('jobs', `${batchNs(namespace)}/jobs`),
    ownedCronJobs: (namespace, labelSelector) =>
      source<V1CronJob>(
        'cronjobs',
        `/apis/batch/v1/namespaces/${namespace}/cronjobs`,
        labelSelector,
      ),
    ownedSecrets: (namespace, labelSelector) =>
      metadataSource(
        clients,
        count,
        'secrets',
        `/api/v1/namespaces/${namespace}/secrets`,
        labelSelector,
      ),
    secretsMetadata: (namespace) =>
      metadataSource(clients, count, 'secrets', `/api/v1/namespaces/${namespace}/secrets`),
    configMapsMetadata: (namespace) =>
      metadataSource(clients, count, 'configmaps', `/api/v1/namespaces/${namespace}/configmaps`),
    close: () => clients.close(),
  };
}
