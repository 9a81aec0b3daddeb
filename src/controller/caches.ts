/**
 * What the operator watches, as caches filled by informers: the pods and
 * Services of each watched namespace, the metadata of their Secrets and
 * ConfigMaps (the content of the referenced ones read once per change), and
 * the CronJobs and Secrets snapkeeper owns in the control namespace.
 * Informers run on every replica, so a standby is warm.
 */
import type {
  KubernetesObject,
  V1ConfigMap,
  V1Pod,
  V1Secret,
  V1Service,
} from '@kubernetes/client-node';
import type { OperatorConfig } from '../config/operator.js';
import type { RefLookup } from '../discovery/credentials.js';
import type { KubeApi, ListWatchSource, V1PartialObjectMetadata } from '../kube/api.js';
import { Informer, type InformerOptions } from '../kube/informer.js';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../labels.js';
import { RefCache, RefIndex, refKey, type RefKey } from './refs.js';

export class OperatorCaches {
  readonly pods: Informer<V1Pod>[];
  readonly services: Informer<V1Service>[];
  /** Owned CronJobs and mirrored Secrets: metadata only (labels, annotations, resourceVersion). */
  readonly cronJobs: Informer<V1PartialObjectMetadata>;
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
    const selector = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;
    this.cronJobs = new Informer(
      api.ownedCronJobs(config.controlNamespace, selector),
      informerOptions,
    );
    this.secrets = new Informer(
      api.ownedSecrets(config.controlNamespace, selector),
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
