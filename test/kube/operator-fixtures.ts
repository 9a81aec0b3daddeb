// The operator started in-process for the operator suites, with its log and
// its API requests captured, and the waits that read its reconcile counter
// instead of the clock.
import type { KubeInfo } from '../env/helpers.js';
import { kubeConfig } from '../env/helpers.js';
import { loadOperatorConfig, type OperatorConfig } from '../../src/config/operator.js';
import {
  startOperator,
  type OperatorOptions,
  type RunningOperator,
} from '../../src/controller/run.js';
import { WRITE_VERBS, type Verb } from '../../src/kube/api.js';
import { createLogger } from '../../src/log.js';
import { cuttableRelay, eventually } from './fixtures.js';

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

/**
 * An operator that reaches the apiserver through a cuttableRelay, so that the
 * test can cut its connections (its own client, the test's, stay direct).
 */
export async function startTestOperatorBehindRelay(
  kube: KubeInfo,
  env: Record<string, string>,
  resyncSeconds: number,
): Promise<{ op: TestOperator; relay: Awaited<ReturnType<typeof cuttableRelay>> }> {
  const relay = await cuttableRelay(new URL(kube.server));
  const op = await startTestOperator({ ...kube, server: relay.server }, env, {}, resyncSeconds);
  return { op, relay };
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
