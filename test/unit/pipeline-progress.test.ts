import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.js';
import { formatBytes, startProgress } from '../../src/pipeline/progress.js';

afterEach(() => vi.useRealTimers());

describe('progress', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.5 KiB'],
    [5 * 1024 ** 3, '5.0 GiB'],
  ])('given %i bytes, then %s', (n, s) => {
    expect(formatBytes(n)).toBe(s);
  });

  it('given a running dump, when intervals pass, then one line each with bytes, rate and elapsed, and none after stop', () => {
    vi.useFakeTimers();
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ format: 'json', write: (l) => lines.push(JSON.parse(l)) });
    let t = 0;
    let raw = 0;
    const stop = startProgress(
      log,
      { rawBytes: () => raw, storedBytes: () => raw / 4 },
      5000,
      () => t,
    );
    raw = 50 * 1024 * 1024;
    t = 5000;
    vi.advanceTimersByTime(5000);
    raw = 100 * 1024 * 1024;
    t = 10_000;
    vi.advanceTimersByTime(5000);
    stop();
    vi.advanceTimersByTime(20_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({
      msg: 'dump in progress',
      read: '100.0 MiB',
      stored: '25.0 MiB',
      rate: '10.0 MiB/s',
      elapsedSeconds: 10,
      rawBytes: 100 * 1024 * 1024,
    });
  });
});
