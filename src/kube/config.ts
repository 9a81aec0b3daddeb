import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import { UserError, describeError } from '../errors.js';

const SA_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export interface KubeConfigSource {
  /** An explicit kubeconfig path (`--kubeconfig`); wins over everything else. */
  kubeconfig?: string | undefined;
  env: NodeJS.ProcessEnv;
}

/**
 * Where the operator connects: an explicit kubeconfig, else `KUBECONFIG`, else
 * in cluster (service-account token) when running in a pod, else
 * `~/.kube/config`. Nothing is read at import time.
 */
export function loadKubeConfig(source: KubeConfigSource): KubeConfig {
  const kc = new KubeConfig();
  const file = source.kubeconfig ?? source.env.KUBECONFIG;
  try {
    if (file) {
      if (!existsSync(file)) throw new UserError(`kubeconfig ${file} does not exist`);
      kc.loadFromFile(file);
    } else if (source.env.KUBERNETES_SERVICE_HOST && existsSync(SA_TOKEN)) {
      kc.loadFromCluster();
    } else {
      kc.loadFromDefault();
    }
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot load the Kubernetes configuration: ${describeError(err)}`);
  }
  if (!kc.getCurrentCluster()) {
    throw new UserError('no Kubernetes cluster configured: pass --kubeconfig or set KUBECONFIG');
  }
  return kc;
}
