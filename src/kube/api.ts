import type {
  CoreV1Event,
  KubernetesObject,
  V1ConfigMap,
  V1CronJob,
  V1DaemonSet,
  V1Deployment,
  V1Job,
  V1ObjectMeta,
  V1Pod,
  V1ReplicaSet,
  V1Secret,
  V1Service,
  V1StatefulSet,
} from '@kubernetes/client-node';
import { KubeClients, readLines, type KubeAccess, type Query } from './client.js';
import { orUndefined } from './errors.js';

/**
 * The thin layer between snapkeeper and the Kubernetes API. Everything the
 * operator does to the API goes through one of these narrow interfaces, and
 * every request is reported to `onRequest` (verb + resource) before it is
 * sent: that feeds `snapkeeper_kube_api_requests_total{verb}` and lets tests
 * count writes.
 *
 * Longer than most files on purpose: the interfaces the operator codes
 * against and their one implementation over the plain-JSON client, so each
 * request's path, verb and counted resource sit in one file with the contract
 * they fulfil, and nothing else implements them but the tests' fakes.
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
  /** A ReplicaSet's metadata only (owner resolution reads its owner references). */
  getReplicaSet(namespace: string, name: string): Promise<V1PartialObjectMetadata | undefined>;
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

/**
 * A coordination.k8s.io/v1 Lease as plain JSON: its times are MicroTime
 * strings (RFC 3339 with microseconds), not the generated classes' Dates.
 */
export interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata?: V1ObjectMeta;
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaseApi {
  get(namespace: string, name: string): Promise<Lease | undefined>;
  create(lease: Lease): Promise<Lease>;
  replace(lease: Lease): Promise<Lease>;
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

function nameOf(obj: { metadata?: V1ObjectMeta }): { namespace: string; name: string } {
  return { namespace: obj.metadata?.namespace ?? '', name: obj.metadata?.name ?? '' };
}

/**
 * Server-side watch timeout, randomised like client-go (5–10 min) so that
 * many watches do not all reconnect at once.
 */
function watchTimeoutSeconds(): number {
  return 300 + Math.floor(Math.random() * 300);
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

/**
 * A list/watch source on one collection over the plain-JSON client: lists in
 * pages (each page a request), watches from the listed resourceVersion with
 * bookmarks, the label selector (when given) on both. `metadataOnly`: the
 * apiserver answers PartialObjectMetadata(List), asked by the Accept header,
 * so no Secret's data ever reaches this process through it.
 */
export function jsonSource<T extends KubernetesObject>(
  clients: KubeClients,
  onRequest: RequestListener,
  resource: string,
  path: string,
  options: { labelSelector?: string | undefined; metadataOnly?: boolean } = {},
): ListWatchSource<T> {
  const { labelSelector, metadataOnly = false } = options;
  const details = [metadataOnly ? 'metadata' : '', labelSelector ?? ''].filter(Boolean);
  return {
    description: `${resource} ${path}${details.length ? ` (${details.join(', ')})` : ''}`,
    async list() {
      const items: T[] = [];
      let next: string | undefined;
      let resourceVersion = '';
      do {
        onRequest('list', resource);
        const page = await clients.getJson<{
          items?: T[];
          metadata?: { resourceVersion?: string; continue?: string };
        }>(
          path,
          { labelSelector, limit: LIST_PAGE, continue: next },
          { Accept: metadataOnly ? METADATA_LIST : 'application/json' },
        );
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
        { Accept: metadataOnly ? METADATA : 'application/json' },
        { stream: true, signal: abort.signal },
      );
      readLines(
        res,
        (line) => {
          const e = line as { type?: string; object?: T };
          if (e.type && e.object)
            onEvent({ type: e.type as WatchEvent<T>['type'], object: slim(e.object) });
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

/** The metadata only of one collection (see jsonSource). */
export function metadataSource(
  clients: KubeClients,
  onRequest: RequestListener,
  resource: string,
  path: string,
  labelSelector?: string,
): ListWatchSource<V1PartialObjectMetadata> {
  return jsonSource(clients, onRequest, resource, path, { labelSelector, metadataOnly: true });
}

const coreNs = (namespace: string) => `/api/v1/namespaces/${encodeURIComponent(namespace)}`;
const appsNs = (namespace: string) => `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}`;
const batchNs = (namespace: string) => `/apis/batch/v1/namespaces/${encodeURIComponent(namespace)}`;
const leasesNs = (namespace: string) =>
  `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`;
const named = (collection: string, name: string) => `${collection}/${encodeURIComponent(name)}`;
/** The object with its apiVersion and kind (the builders may leave them to the client). */
const typed = <T extends object>(
  obj: T & { apiVersion?: string; kind?: string },
  apiVersion: string,
  kind: string,
): T => ({
  ...obj,
  apiVersion: obj.apiVersion ?? apiVersion,
  kind: obj.kind ?? kind,
});

/** Where each workload kind lives, by kind. */
const WORKLOAD_PATHS: Record<string, { resource: string; collection: (ns: string) => string }> = {
  Deployment: { resource: 'deployments', collection: (ns) => `${appsNs(ns)}/deployments` },
  StatefulSet: { resource: 'statefulsets', collection: (ns) => `${appsNs(ns)}/statefulsets` },
  DaemonSet: { resource: 'daemonsets', collection: (ns) => `${appsNs(ns)}/daemonsets` },
  ReplicaSet: { resource: 'replicasets', collection: (ns) => `${appsNs(ns)}/replicasets` },
  Job: { resource: 'jobs', collection: (ns) => `${batchNs(ns)}/jobs` },
  CronJob: { resource: 'cronjobs', collection: (ns) => `${batchNs(ns)}/cronjobs` },
  Pod: { resource: 'pods', collection: (ns) => `${coreNs(ns)}/pods` },
};

/**
 * A DeleteOptions body: dependents by `propagation` (when given), guarded by
 * `resourceVersion` (when given).
 */
function deleteOptions(resourceVersion?: string, propagation?: Propagation): object {
  return {
    apiVersion: 'v1',
    kind: 'DeleteOptions',
    ...(propagation ? { propagationPolicy: propagation } : {}),
    ...(resourceVersion ? { preconditions: { resourceVersion } } : {}),
  };
}

/**
 * The operator's API over the plain-JSON client (src/kube/client.ts): no
 * generated API class is loaded. `kc` is client-node's KubeConfig or
 * snapkeeper's own (src/kube/access.ts).
 */
export function createKubeApi(kc: KubeAccess, onRequest: RequestListener = () => {}): KubeApi {
  const clients = new KubeClients(kc);
  const count = (verb: Verb, resource: string) => onRequest(verb, resource);
  const get = <T>(resource: string, path: string): Promise<T | undefined> => {
    count('get', resource);
    return orUndefined(clients.json<T>('GET', path));
  };
  const list = async <T>(resource: string, path: string, query: Query = {}): Promise<T[]> => {
    count('list', resource);
    return (await clients.json<{ items?: T[] }>('GET', path, undefined, { query })).items ?? [];
  };
  const source = <T extends KubernetesObject>(resource: string, path: string) =>
    jsonSource<T>(clients, count, resource, path);
  const workload = (kind: string, namespace: string, name: string) => {
    const where = WORKLOAD_PATHS[kind];
    if (!where) return Promise.reject(new Error(`unknown workload kind ${kind}`));
    return get<WorkloadObject>(where.resource, named(where.collection(namespace), name));
  };

  return {
    read: {
      getReplicaSet: (namespace, name) => {
        count('get', 'replicasets');
        return orUndefined(
          clients.getJson<V1PartialObjectMetadata>(
            named(`${appsNs(namespace)}/replicasets`, name),
            {},
            { Accept: METADATA },
          ),
        );
      },
      getJob: (namespace, name) => get<V1Job>('jobs', named(`${batchNs(namespace)}/jobs`, name)),
      getSecret: (namespace, name) =>
        get<V1Secret>('secrets', named(`${coreNs(namespace)}/secrets`, name)),
      getConfigMap: (namespace, name) =>
        get<V1ConfigMap>('configmaps', named(`${coreNs(namespace)}/configmaps`, name)),
      getWorkload: (namespace, kind, name) => workload(kind, namespace, name),
      listJobs: (namespace) => list<V1Job>('jobs', `${batchNs(namespace)}/jobs`),
      getPod: (namespace, name) => get<V1Pod>('pods', named(`${coreNs(namespace)}/pods`, name)),
      listPods: async (namespace, labelSelector) =>
        (await list<V1Pod>('pods', `${coreNs(namespace)}/pods`, { labelSelector })).map(slim),
    },
    cronJobs: {
      kind: 'CronJob',
      get: (namespace, name) =>
        get<V1CronJob>('cronjobs', named(`${batchNs(namespace)}/cronjobs`, name)),
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
          named(`${batchNs(namespace)}/cronjobs`, name),
          typed(body, 'batch/v1', 'CronJob'),
        );
      },
      patchMetadata: (namespace, name, metadata) => {
        count('patch', 'cronjobs');
        return clients.json<V1CronJob>(
          'PATCH',
          named(`${batchNs(namespace)}/cronjobs`, name),
          { metadata },
          {
            query: { fieldManager: 'snapkeeper-status' },
            contentType: 'application/merge-patch+json',
          },
        );
      },
      delete: async (namespace, name, resourceVersion, propagation = 'Background') => {
        count('delete', 'cronjobs');
        // Background: the CronJob's Jobs go with it (a running backup is
        // stopped). Orphan: its Jobs stay and finish; their
        // ttlSecondsAfterFinished removes them. Stored backups never go.
        await clients.json(
          'DELETE',
          named(`${batchNs(namespace)}/cronjobs`, name),
          deleteOptions(resourceVersion, propagation),
        );
      },
    },
    secrets: {
      kind: 'Secret',
      get: (namespace, name) =>
        get<V1Secret>('secrets', named(`${coreNs(namespace)}/secrets`, name)),
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
          named(`${coreNs(namespace)}/secrets`, name),
          typed(body, 'v1', 'Secret'),
        );
      },
      delete: async (namespace, name, resourceVersion) => {
        count('delete', 'secrets');
        await clients.json(
          'DELETE',
          named(`${coreNs(namespace)}/secrets`, name),
          deleteOptions(resourceVersion),
        );
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
      get: (namespace, name) =>
        get<CoreV1Event>('events', named(`${coreNs(namespace)}/events`, name)),
      replace: (namespace, body) => {
        count('update', 'events');
        return clients.json<CoreV1Event>(
          'PUT',
          named(`${coreNs(namespace)}/events`, body.metadata?.name ?? ''),
          typed(body, 'v1', 'Event'),
        );
      },
      list: (namespace, fieldSelector) =>
        list<CoreV1Event>('events', `${coreNs(namespace)}/events`, { fieldSelector }),
    },
    leases: {
      get: (namespace, name) => get<Lease>('leases', named(leasesNs(namespace), name)),
      create: (body) => {
        count('create', 'leases');
        return clients.json<Lease>(
          'POST',
          leasesNs(nameOf(body).namespace),
          typed(body, 'coordination.k8s.io/v1', 'Lease'),
        );
      },
      replace: (body) => {
        count('update', 'leases');
        const { namespace, name } = nameOf(body);
        return clients.json<Lease>(
          'PUT',
          named(leasesNs(namespace), name),
          typed(body, 'coordination.k8s.io/v1', 'Lease'),
        );
      },
    },
    pods: (namespace) => source<V1Pod>('pods', `${coreNs(namespace)}/pods`),
    services: (namespace) => source<V1Service>('services', `${coreNs(namespace)}/services`),
    jobs: (namespace) => source<V1Job>('jobs', `${batchNs(namespace)}/jobs`),
    ownedCronJobs: (namespace, labelSelector) =>
      jsonSource<V1CronJob>(clients, count, 'cronjobs', `${batchNs(namespace)}/cronjobs`, {
        labelSelector,
      }),
    ownedSecrets: (namespace, labelSelector) =>
      metadataSource(clients, count, 'secrets', `${coreNs(namespace)}/secrets`, labelSelector),
    secretsMetadata: (namespace) =>
      metadataSource(clients, count, 'secrets', `${coreNs(namespace)}/secrets`),
    configMapsMetadata: (namespace) =>
      metadataSource(clients, count, 'configmaps', `${coreNs(namespace)}/configmaps`),
    close: () => clients.close(),
  };
}
