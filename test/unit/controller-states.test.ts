// The snapkeeper_workloads{state} gauge, counted as each workload's state
// changes: every state exported from the first reconcile, a workload counted
// once, in its latest state, and gone when it is not tracked any more.
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { WorkloadStates } from '../../src/controller/workload-states.js';
import { createMetrics } from '../../src/metrics/registry.js';

async function gauge(metrics: ReturnType<typeof createMetrics>): Promise<Record<string, number>> {
  const values = (await metrics.workloads.get()).values;
  return Object.fromEntries(values.map((v) => [String(v.labels.state), v.value]));
}

describe('WorkloadStates', () => {
  it('given states set, changed and cleared, then the gauge counts each workload once, in its latest state', async () => {
    const metrics = createMetrics(new Registry());
    const states = new WorkloadStates(metrics.workloads);

    states.set('shop/Deployment/a', 'scheduled');
    expect(await gauge(metrics)).toEqual({
      scheduled: 1,
      suspended: 0,
      invalid: 0,
      no_service: 0,
      ambiguous_service: 0,
      missing_credentials: 0,
    });

    states.set('shop/Deployment/b', 'scheduled');
    states.set('shop/Deployment/a', 'invalid');
    states.set('shop/Deployment/a', 'invalid');
    expect(await gauge(metrics)).toMatchObject({ scheduled: 1, invalid: 1 });

    states.set('shop/Deployment/a', undefined);
    states.set('shop/Deployment/gone', undefined);
    expect(await gauge(metrics)).toMatchObject({ scheduled: 1, invalid: 0 });
  });

  it('given the first reconcile finds a workload not tracked, then every state is exported at 0', async () => {
    const metrics = createMetrics(new Registry());
    new WorkloadStates(metrics.workloads).set('shop/Deployment/a', undefined);
    expect(Object.values(await gauge(metrics))).toEqual([0, 0, 0, 0, 0, 0]);
  });
});
