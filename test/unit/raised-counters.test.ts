// Counters raised to a recorded count (src/status/raised-counters.ts): never
// lowered, exported from 0, forgotten with their series, and without reading
// the whole counter for each series (which made n workloads cost n²).
import { Counter, Registry } from 'prom-client';
import { describe, expect, it, vi } from 'vitest';
import {
  raiseCounterTo,
  removeCounterSeries,
  resetCounter,
} from '../../src/status/raised-counters.js';

function counter(): Counter {
  return new Counter({
    name: 'runs_total',
    help: 'runs',
    labelNames: ['workload', 'result'],
    registers: [new Registry()],
  });
}

async function valueOf(c: Counter, labels: Record<string, string>): Promise<number | undefined> {
  return (await c.get()).values.find((v) =>
    Object.entries(labels).every(([k, x]) => v.labels[k] === x),
  )?.value;
}

const A = { workload: 'shop/db', result: 'success' };
const B = { result: 'failure', workload: 'shop/db' };

describe('raiseCounterTo', () => {
  it('raises, never lowers, and exports a series from 0', async () => {
    const c = counter();
    raiseCounterTo(c, B, 0);
    expect(await valueOf(c, B)).toBe(0);
    raiseCounterTo(c, A, 3);
    raiseCounterTo(c, A, 2);
    expect(await valueOf(c, A)).toBe(3);
    raiseCounterTo(c, { result: 'success', workload: 'shop/db' }, 5); // label order does not matter
    expect(await valueOf(c, A)).toBe(5);
    expect(await valueOf(c, B)).toBe(0);
  });

  it('given a removed series, then it starts again from what is recorded next', async () => {
    const c = counter();
    raiseCounterTo(c, A, 5);
    removeCounterSeries(c, A);
    expect(await valueOf(c, A)).toBeUndefined();
    raiseCounterTo(c, A, 1);
    expect(await valueOf(c, A)).toBe(1);
  });

  it('given a reset counter, then every series starts again', async () => {
    const c = counter();
    raiseCounterTo(c, A, 5);
    raiseCounterTo(c, B, 2);
    resetCounter(c);
    raiseCounterTo(c, A, 1);
    expect(await valueOf(c, A)).toBe(1);
    expect(await valueOf(c, B)).toBeUndefined();
  });

  it('given 5,000 workloads, then no raise reads the whole counter', () => {
    const c = counter();
    const get = vi.spyOn(c, 'get');
    for (let i = 0; i < 5000; i++)
      raiseCounterTo(c, { workload: `ns/w${i}`, result: 'success' }, i % 7);
    expect(get).not.toHaveBeenCalled();
  });
});
