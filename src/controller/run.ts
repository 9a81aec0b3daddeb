import type { OperatorConfig } from '../config/operator.js';
import type { Logger } from '../log.js';
import { createMetrics, type Metrics } from '../metrics/registry.js';
import { createKubeApi, type ReadApi, type RequestListener } from '../kube/api.js';
import type { KubeAccess } from '../kube/client.js';
import { ConfigError } from '../errors.js';
import { countRequests } from '../kube/metrics.js';
import { HealthServer } from '../server/http.js';
import { Controller, type ControllerOptions } from './controller.js';
import { StatusWhileLeading } from '../status/while-leading.js';
import { statusDeps } from '../status/kube.js';

export interface OperatorOptions {
  config: OperatorConfig;
  /** client-node's KubeConfig (tests), or the operator's own (src/kube/access.ts). */
  kubeConfig: KubeAccess;
  log: Logger;
  metrics?: Metrics;
  /** Also told of every API request (after the metric). */
  onRequest?: RequestListener;
  /** Aborting it during start-up stops the operator (start then resolves). */
  signal?: AbortSignal;
  /** Serve /metrics, /healthz, /readyz (default true). */
  http?: boolean;
  tuning?: Partial<
    Pick<
      ControllerOptions,
      | 'concurrency'
      | 'leaseDurationSeconds'
      | 'leaseRetryPeriodMs'
      | 'leaseRenewDeadlineMs'
      | 'eventWindowMs'
    >
  >;
}

export interface RunningOperator {
  controller: Controller;
  metrics: Metrics;
  /** Where the HTTP server listens, if started. */
  httpPort: number | undefined;
  /** Stop everything; `release` false leaves the Lease held, as a crash would. */
  stop(release?: boolean): Promise<void>;
}

/**
 * The owner reference of config.ownerConfigMap, with the ConfigMap's uid.
 * Under the chart it always exists (it holds this very configuration), so
 * its absence is a configuration error, not something to work around.
 */
export async function resolveOwner(
  config: OperatorConfig,
  read: Pick<ReadApi, 'getConfigMap'>,
): Promise<OperatorConfig> {
  const name = config.ownerConfigMap;
  if (name === undefined) return config;
  const cm = await read.getConfigMap(config.controlNamespace, name);
  const uid = cm?.metadata?.uid;
  if (uid === undefined) {
    throw new ConfigError(
      [`SNAPKEEPER_OWNER_CONFIGMAP: no ConfigMap ${config.controlNamespace}/${name}`],
      'invalid operator configuration',
    );
  }
  return { ...config, ownerReference: { apiVersion: 'v1', kind: 'ConfigMap', name, uid } };
}

/** Start the operator: HTTP endpoints, informers, then (as leader) reconciles. */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const metrics = options.metrics ?? createMetrics();
  const onRequest = countRequests(metrics, options.onRequest);
  const api = createKubeApi(options.kubeConfig, onRequest);
  const o = { ...options, config: await resolveOwner(options.config, api.read) };
  const controller: Controller = new Controller({
    leaderHooks: { started: () => status.started(), stopped: () => status.stopped() },
    config: o.config,
    api,
    log: o.log,
    metrics,
    ...o.tuning,
  });
  // Finished Jobs → Events, metrics, status annotations; only while leading,
  // over the controller's own CronJob cache and Event recorder.
  const status = new StatusWhileLeading(
    statusDeps({
      ...o,
      api,
      metrics,
      cronJobs: controller.caches.cronJobs,
      events: controller.events,
    }),
  );
  let server: HealthServer | undefined;
  let httpPort: number | undefined;
  if (o.http !== false) {
    server = new HealthServer({
      registry: metrics.registry,
      host: o.config.http.host,
      port: o.config.http.port,
      ready: () => controller.isReady(),
    });
    httpPort = (await server.start()).port;
    o.log.info('serving /metrics, /healthz, /readyz', {
      address: `${o.config.http.host}:${httpPort}`,
    });
  }
  o.log.info('starting', {
    controlNamespace: o.config.controlNamespace,
    watchNamespaces: o.config.watchNamespaces,
    leaderElection: o.config.leaderElection,
    identity: o.config.podName,
  });
  const onAbort = () => void controller.stop();
  o.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await controller.start();
  } catch (err) {
    await server?.stop();
    throw err;
  } finally {
    o.signal?.removeEventListener('abort', onAbort);
  }
  return {
    controller,
    metrics,
    httpPort,
    async stop(release = true) {
      if (release) await controller.stop();
      else await controller.stopWithoutRelease();
      await server?.stop();
      o.log.info('stopped');
    },
  };
}
