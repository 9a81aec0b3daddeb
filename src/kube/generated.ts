import type { Agent as HttpAgent } from 'node:http';
import {
  createConfiguration,
  ServerConfiguration,
  type Configuration,
  type KubeConfig,
  type RequestContext,
  type SecurityAuthentication,
} from '@kubernetes/client-node';
import { KubeClients } from './client.js';

/**
 * KubeClients that also make client-node's generated API clients (CoreV1Api,
 * ...) whose requests share the pool. Kept apart from client.ts so the
 * operator, which needs none of them, does not load the package (about
 * 70 MiB of generated classes): the CLI and the tests use this.
 */
export class GeneratedClients extends KubeClients {
  private readonly auth: SecurityAuthentication;

  constructor(
    readonly kubeConfig: KubeConfig,
    maxSockets = 16,
  ) {
    super(kubeConfig, maxSockets);
    this.auth = {
      getName: () => 'snapkeeper-keep-alive',
      applySecurityAuthentication: async (context: RequestContext) => {
        await kubeConfig.applySecurityAuthentication(context);
        const server = kubeConfig.getCurrentCluster()?.server ?? '';
        const pooled = this.pooled(
          { agent: context.getAgent() as HttpAgent | undefined },
          new URL(server).protocol,
        );
        if (pooled) context.setAgent(pooled);
      },
    };
  }

  /** A generated API client (CoreV1Api, ...) whose requests share the pool. */
  make<T>(type: new (config: Configuration) => T): T {
    const cluster = this.kubeConfig.getCurrentCluster();
    if (!cluster) throw new Error('no current cluster in the kubeconfig');
    return new type(
      createConfiguration({
        baseServer: new ServerConfiguration(cluster.server, {}),
        authMethods: { default: this.auth },
      }),
    );
  }
}
