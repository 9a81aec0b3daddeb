/**
 * What the operator watches, as caches filled by informers: the pods and
 * Services of each watched namespace, the metadata of their Secrets and
 * ConfigMaps (the content of the referenced ones read once per change), and
 * the CronJobs and Secrets snapkeeper owns in the control namespace.
 * Informers run on every replica, so a standby is warm. The leader's status
 * controller (src/status/) reads the same CronJob cache; it keeps none of its
 * own.
 */
import type {
  KubernetesObject,
  V1ConfigMap,
  V1CronJob,
  V1CronJobSpec,
  V1Pod,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import type { OperatorConfig } from '../config/operator.js';
import type { RefLookup } from '../discovery/credentials.js';
import type { KubeApi, ListWatchSource, V1PartialObjectMetadata } from '../kube/api.js';
import { Informer, type InformerOptions } from '../kube/informer.js';
import { MANAGED_SELECTOR } from '../labels.js';
import { RefCache, RefIndex, refKey, type RefKey } from './refs.js';

/**
 * What the operator keeps of an owned CronJob: its metadata (labels,
 * annotations with the spec hash and the status record, resourceVersion:
 * what the write path decides on) and, of its spec, what the status
 * controller reads to find missed runs. The job template, most of the
 * object, is dropped as each object arrives.
 */
export type CachedCronJob = V1PartialObjectMetadata & {
  spec?: Partial<Pick<V1CronJobSpec, 'schedule' | 'timeZone' | 'suspend'>>;
};

export function cachedCronJob(cj: V1CronJob): CachedCronJob {
  const spec: CachedCronJob['spec'] = {};
  if (cj.spec?.schedule !== undefined) spec.schedule = cj.spec.schedule;
  if (cj.spec?.timeZone !== undefined) spec.timeZone = cj.spec.timeZone;
  if (cj.spec?.suspend !== undefined) spec.suspend = cj.spec.suspend;
  return {
    ...(cj.apiVersion ? { apiVersion: cj.apiVersion } : {}),
    ...(cj.kind ? { kind: cj.kind } : {}),
    ...(cj.metadata ? { metadata: cj.metadata } : {}),
    spec,
  };
}

/** A source whose objects are `view(object)`; watch errors (Status objects) pass as they are. */
export function viewOf<T extends KubernetesObject, U extends KubernetesObject>(
  source: ListWatchSource<T>,
  view: (obj: T) => U,
): ListWatchSource<U> {
  return {
    description: source.description,
    async list() {
      const { items, resourceVersion } = await source.list();
      return { items: items.map(view), resourceVersion };
    },
    watch: (resourceVersion, onEvent, onDone) =>
      source.watch(
        resourceVersion,
        (e) =>
          onEvent({
            type: e.type,
            object: e.type === 'ERROR' ? (e.object as unknown as U) : view(e.object),
          }),
        onDone,
      ),
  };
}

/** The cache of the CronJobs snapkeeper owns in `namespace` (not started). */
export function ownedCronJobCache(
  api: Pick<KubeApi, 'ownedCronJobs'>,
  namespace: string,
  informerOptions: InformerOptions,
): Informer<CachedCronJob> {
  return new Informer(
    viewOf(api.ownedCronJobs(namespace, MANAGED_SELECTOR), cachedCronJob),
    informerOptions,
  );
}

export class OperatorCaches {
  readonly pods: Informer<V1Pod>[];
  readonly services: Informer<V1Service>[];
  /** Owned CronJobs: metadata, and the schedule the status controller reads (CachedCronJob). */
  readonly cronJobs: Informer<CachedCronJob>;
  /** Mirrored Secrets: metadata only (labels, annotations, resourceVersion). */
  readonly secrets: Informer<V1PartialObjectMetadata>;
  /** Metadata only of every Secret / ConfigMap of the watched namespaces. */
  readonly secretMeta: Informer<KubernetesObject>[];
  readonly configMapMeta: Informer<KubernetesObject>[];
  /** The content of the referenced ones, read once per change. */
  readonly secretData: RefCache<V1Secret>;
  readonly configMapData: RefCache<V1ConfigMap>;
  /** Which workloads read which Secret / ConfigMap at their last reconcile. */
  readonly refIndex = new RefIndex();

  constructor(
    private readonly config: Pick<OperatorConfig, 'watchNamespaces' | 'controlNamespace'>,
    api: KubeApi,
    informerOptions: InformerOptions,
  ) {
    const inEach = <T extends KubernetesObject>(source: (ns: string) => ListWatchSource<T>) =>
      config.watchNamespaces.map((ns) => new Informer<T>(source(ns), informerOptions));
    this.pods = inEach((ns) => api.pods(ns));
    this.services = inEach((ns) => api.services(ns));
    this.cronJobs = ownedCronJobCache(api, config.controlNamespace, informerOptions);
    this.secrets = new Informer(
      api.ownedSecrets(config.controlNamespace, MANAGED_SELECTOR),
      informerOptions,
    );
    this.secretMeta = inEach((ns) => api.secretsMetadata(ns));
    this.configMapMeta = inEach((ns) => api.configMapsMetadata(ns));
    const byNamespace = (infs: Informer<KubernetesObject>[]) =>
      new Map(config.watchNamespaces.map((ns, i) => [ns, infs[i]!]));
    this.secretData = new RefCache<V1Secret>(
      byNamespace(this.secretMeta),
      (ns, n) => api.read.getSecret(ns, n),
      (s) => ({
        metadata: { namespace: s.metadata?.namespace, name: s.metadata?.name },
        ...(s.data ? { data: s.data } : {}),
        ...(s.stringData ? { stringData: s.stringData } : {}),
      }),
    );
    this.configMapData = new RefCache<V1ConfigMap>(
      byNamespace(this.configMapMeta),
      (ns, n) => api.read.getConfigMap(ns, n),
      (c) => ({
        metadata: { namespace: c.metadata?.namespace, name: c.metadata?.name },
        ...(c.data ? { data: c.data } : {}),
      }),
    );
  }

  get informers(): Informer<KubernetesObject>[] {
    return [
      ...this.pods,
      ...this.services,
      ...this.secretMeta,
      ...this.configMapMeta,
      this.cronJobs,
      this.secrets,
    ] as Informer<KubernetesObject>[];
  }

  podInformer(namespace: string): Informer<V1Pod> | undefined {
    const i = this.config.watchNamespaces.indexOf(namespace);
    return i < 0 ? undefined : this.pods[i];
  }

  serviceInformer(namespace: string): Informer<V1Service> | undefined {
    const i = this.config.watchNamespaces.indexOf(namespace);
    return i < 0 ? undefined : this.services[i];
  }

  /** Reads referenced Secrets and ConfigMaps from the caches, noting each one in `followed`. */
  refs(followed: Set<RefKey>): RefLookup {
    return {
      secret: (n, name) => {
        followed.add(refKey(n, 'Secret', name));
        return this.secretData.get(n, name);
      },
      configMap: (n, name) => {
        followed.add(refKey(n, 'ConfigMap', name));
        return this.configMapData.get(n, name);
      },
    };
  }

  /** What the workload's last reconcile read; objects nobody reads any more are dropped. */
  setRefs(key: string, followed: Set<RefKey>): void {
    for (const ref of this.refIndex.set(key, followed)) {
      const [n = '', kind, ...rest] = ref.split('/');
      const cache = kind === 'Secret' ? this.secretData : this.configMapData;
      cache.forget(n, rest.join('/'));
    }
  }
}
