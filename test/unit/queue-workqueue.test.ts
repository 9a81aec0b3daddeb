import { describe, expect, it } from 'vitest';
import { WorkQueue, type Schedule } from '../../src/controller/queue.js';
import { createLogger } from '../../src/log.js';

const log = createLogger({ write: () => {} });

/** Timers run only when the test says so. */
function manualSchedule() {
  const pending: { fn: () => void; ms: number }[] = [];
  const schedule: Schedule = (fn, ms) => {
    const t = { fn, ms };
    pending.push(t);
    return () => pending.splice(pending.indexOf(t), 1);
  };
  return { schedule, pending, fire: () => pending.splice(0).forEach((t) => t.fn()) };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('WorkQueue', () => {
  it('given a key added many times while queued, then it is processed once', async () => {
    const seen: string[] = [];
    const q = new WorkQueue(async (k) => void seen.push(k), { log });
    for (let i = 0; i < 5; i++) q.add('a');
    q.add('b');
    q.start();
    await q.drained();
    expect(seen.sort()).toEqual(['a', 'b']);
  });

  it('given a key added while it is being processed, then it runs again afterwards, never concurrently', async () => {
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    let release!: () => void;
    const q = new WorkQueue(
      async () => {
        active++;
        maxActive = Math.max(maxActive, active);
        runs++;
        if (runs === 1) await new Promise<void>((r) => (release = r));
        active--;
      },
      { log, concurrency: 4 },
    );
    q.add('a');
    q.start();
    await tick();
    q.add('a');
    q.add('a');
    await tick();
    expect(runs).toBe(1);
    release();
    await q.drained();
    expect(runs).toBe(2);
    expect(maxActive).toBe(1);
  });

  it('given a failing key, then it backs off exponentially while other keys keep being processed', async () => {
    const timers = manualSchedule();
    const ok: string[] = [];
    const q = new WorkQueue(
      async (k) => {
        if (k === 'bad') throw new Error('boom');
        ok.push(k);
      },
      { log, concurrency: 1, schedule: timers.schedule, backoff: { initialMs: 100, maxMs: 1000 } },
    );
    q.start();
    q.add('bad');
    q.add('good1');
    await q.drained();
    expect(ok).toEqual(['good1']);
    expect(timers.pending.map((t) => t.ms)).toEqual([100]);
    q.add('good2');
    await q.drained();
    expect(ok).toEqual(['good1', 'good2']);
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      timers.fire();
      await q.drained();
      delays.push(...timers.pending.map((t) => t.ms));
    }
    expect(delays).toEqual([200, 400, 800, 1000, 1000]);
    expect(q.failuresOf('bad')).toBe(6);
  });

  it('given a jittered backoff, then each retry waits its delay less the drawn share of it', async () => {
    const timers = manualSchedule();
    const q = new WorkQueue(
      async () => {
        throw new Error('boom');
      },
      {
        log,
        schedule: timers.schedule,
        backoff: { initialMs: 100, maxMs: 1000, jitter: 0.5 },
        random: () => 0.5,
      },
    );
    q.start();
    q.add('bad');
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) {
      await q.drained();
      delays.push(...timers.pending.map((t) => t.ms));
      timers.fire();
    }
    await q.stop();
    expect(delays).toEqual([75, 150, 300, 600, 750, 750]);
  });

  it('given a paused queue, then keys wait and run on start', async () => {
    const seen: string[] = [];
    const q = new WorkQueue(async (k) => void seen.push(k), { log });
    q.add('a');
    await tick();
    expect(seen).toEqual([]);
    q.start();
    await q.drained();
    expect(seen).toEqual(['a']);
    q.pause();
    q.add('b');
    await tick();
    expect(seen).toEqual(['a']);
  });

  it('given a requeueAfterMs outcome, then the key is scheduled again without counting a failure', async () => {
    const timers = manualSchedule();
    let n = 0;
    const q = new WorkQueue(async () => (++n === 1 ? { requeueAfterMs: 500 } : undefined), {
      log,
      schedule: timers.schedule,
    });
    q.start();
    q.add('a');
    await q.drained();
    expect(timers.pending.map((t) => t.ms)).toEqual([500]);
    expect(q.failuresOf('a')).toBe(0);
    timers.fire();
    await q.drained();
    expect(n).toBe(2);
  });
});
