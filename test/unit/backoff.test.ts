import { describe, expect, it } from 'vitest';
import { Backoff, backoffDelay, type BackoffPolicy } from '../../src/backoff.js';

const plain: BackoffPolicy = { initialMs: 100, maxMs: 1000 };
const jittered: BackoffPolicy = { initialMs: 100, maxMs: 1000, jitter: 0.5 };

describe('backoffDelay', () => {
  it('given no jitter, when failures follow each other, then the delay doubles from initialMs up to maxMs', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(plain, n))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('given jitter, when random is 0, then the delay is the plain one; when random nears 1, it is the plain one less the jitter share', () => {
    expect([1, 2, 5].map((n) => backoffDelay(jittered, n, () => 0))).toEqual([100, 200, 1000]);
    expect([1, 2, 5].map((n) => backoffDelay(jittered, n, () => 0.999999))).toEqual([50, 100, 500]);
    expect(backoffDelay(jittered, 3, () => 0.5)).toBe(300);
  });

  it('given jitter and Math.random, when drawn many times, then every delay lies in [d·(1−jitter), d] and they are not all equal', () => {
    for (const attempt of [1, 3, 4, 8]) {
      const d = backoffDelay(plain, attempt);
      const seen = new Set<number>();
      for (let i = 0; i < 500; i++) {
        const ms = backoffDelay(jittered, attempt);
        expect(ms).toBeGreaterThanOrEqual(d * 0.5);
        expect(ms).toBeLessThanOrEqual(d);
        seen.add(ms);
      }
      expect(seen.size).toBeGreaterThan(10);
    }
  });

  it('given a huge attempt count or a zero initial delay, then the delay is still a bounded number', () => {
    expect(backoffDelay(plain, 10_000)).toBe(1000);
    expect(backoffDelay(jittered, Number.MAX_SAFE_INTEGER, () => 0)).toBe(1000);
    expect(backoffDelay({ initialMs: 0, maxMs: 1000 }, 5000)).toBe(0);
    expect(backoffDelay(plain, 0)).toBe(100);
  });

  it('given a jitter outside 0..1, then it is clamped', () => {
    expect(backoffDelay({ ...plain, jitter: 7 }, 2, () => 0.999999)).toBe(0);
    expect(backoffDelay({ ...plain, jitter: -1 }, 2, () => 0.5)).toBe(200);
  });
});

describe('Backoff', () => {
  it('given failures, then next() grows; after reset(), it starts again from initialMs', () => {
    const b = new Backoff(plain);
    expect([b.next(), b.next(), b.next()]).toEqual([100, 200, 400]);
    expect(b.failures).toBe(3);
    b.reset();
    expect(b.failures).toBe(0);
    expect(b.next()).toBe(100);
  });

  it('given a jittered policy and a random source, then next() draws from it', () => {
    const draws = [0, 0.5, 0.999999];
    const b = new Backoff(jittered, () => draws.shift()!);
    expect([b.next(), b.next(), b.next()]).toEqual([100, 150, 200]);
  });
});
