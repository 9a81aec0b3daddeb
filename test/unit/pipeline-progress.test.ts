import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  countingStorage,
  createProgress,
  formatBytes,
  formatDuration,
  formatLine,
  snapshot,
  startProgress,
  type ProgressTask,
} from '../../src/pipeline/progress.js';
import { LocalStorage } from '../../src/storage/local.js';

const MiB = 1024 * 1024;
const ERASE = '\x1b[K';

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
    });
    // Each count once: not again as a raw number beside its human form.
    expect(lines[1]).not.toHaveProperty('rawBytes');
    expect(lines[1]).not.toHaveProperty('bytes');
  });

  it.each([
    [0, '0:00'],
    [75, '1:15'],
    [4000, '1:06:40'],
  ])('given %i seconds, then %s', (n, s) => {
    expect(formatDuration(n)).toBe(s);
  });

  const task = (over: Partial<ProgressTask> = {}): ProgressTask => ({
    label: 'dumping shop',
    message: 'dump in progress',
    main: { name: 'read', bytes: () => 0 },
    second: { name: 'stored', bytes: () => 0 },
    ...over,
  });

  it.each([
    [
      'an estimated total',
      task({ total: 1000 * MiB, approximate: true }),
      250 * MiB,
      '250.0 MiB of ~1000.0 MiB read, 62.5 MiB stored, 50.0 MiB/s, 25%, ETA 0:15',
    ],
    [
      'an estimate already passed: at most 99 %, no ETA',
      task({ total: 100 * MiB, approximate: true }),
      150 * MiB,
      '150.0 MiB of ~100.0 MiB read, 37.5 MiB stored, 50.0 MiB/s, 99%',
    ],
    ['no total', task(), 250 * MiB, '250.0 MiB read, 62.5 MiB stored, 50.0 MiB/s'],
    [
      'an exact total and one count',
      task({ label: '1/2 checking sha256 of shop', second: undefined, total: 500 * MiB }),
      250 * MiB,
      '250.0 MiB of 500.0 MiB read, 50.0 MiB/s, 50%, ETA 0:05',
    ],
  ])('given %s, then the line says so', (_, t, main, text) => {
    const s = snapshot(t, main, t.second ? main / 4 : undefined, 50 * MiB, 5);
    expect(formatLine(t, s)).toBe(`${t.label}: ${text}`);
  });

  it('given a terminal, when the task runs, then one line is rewritten in place and erased at the end', () => {
    vi.useFakeTimers();
    let out = '';
    const stream = Object.assign(new PassThrough(), { columns: 100 });
    stream.on('data', (c: Buffer) => (out += c.toString()));
    const logged: string[] = [];
    const log = createLogger({ format: 'json', write: (l) => logged.push(l) });
    let t = 0;
    let read = 0;
    const stop = createProgress({ mode: 'line', log, stream, now: () => t }).start(
      task({ main: { name: 'read', bytes: () => read }, total: 100 * MiB }),
    );
    for (let i = 1; i <= 8; i++) {
      t = i * 250;
      read = i * 10 * MiB;
      vi.advanceTimersByTime(250);
    }
    stop();
    vi.advanceTimersByTime(5000);
    const draws = out.split('\r').filter((d) => d !== '');
    expect(draws).toHaveLength(9); // 8 redraws, then the erase
    for (const d of draws.slice(0, -1)) {
      expect(d.endsWith(ERASE)).toBe(true);
      expect(d.length - ERASE.length).toBeLessThan(100);
      expect(d).not.toContain('\n');
    }
    expect(draws[7]).toContain('80.0 MiB of 100.0 MiB read');
    expect(draws[7]).toContain('40.0 MiB/s');
    expect(draws[7]).toContain('80%');
    expect(draws.at(-1)).toBe(ERASE);
    expect(logged).toEqual([]);
  });

  it('given -q, when the task runs, then nothing is written', () => {
    vi.useFakeTimers();
    const stream = new PassThrough();
    let out = '';
    stream.on('data', (c: Buffer) => (out += c.toString()));
    const stop = createProgress({ mode: 'off', log: createLogger(), stream }).start(task());
    vi.advanceTimersByTime(60_000);
    stop();
    expect(out).toBe('');
  });

  it('given a download through countingStorage, when it is read, then its bytes are counted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'progress-'));
    try {
      const storage = new LocalStorage(dir);
      await storage.put('a/b.bin', Buffer.alloc(300_000, 7));
      const counter = { bytes: 0 };
      const counted = countingStorage(storage, counter);
      expect(counted.description).toBe(storage.description);
      let got = 0;
      for await (const c of await counted.get('a/b.bin')) got += (c as Buffer).length;
      expect(got).toBe(300_000);
      expect(counter.bytes).toBe(300_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
