/**
 * Progress of a long byte stream (a dump, a download, a restore), shown one
 * of three ways:
 *
 *   line — a person watches a terminal: one line on stderr, rewritten in
 *          place (`\r` + erase to the end of the line) a few times a second,
 *          erased when the task ends;
 *   log  — nobody watches (a Job's logs, CI): one structured log line every
 *          few seconds;
 *   off  — `-q`.
 *
 * A command asks its context for a `Progress` (cli.ts chooses the mode) and
 * starts one task per phase; anything counting bytes can feed it (a
 * `Counter`, `countingStorage`).
 */
import { Transform, pipeline, type Readable } from 'node:stream';
import type { Logger } from '../log.js';
import type { Storage } from '../storage/types.js';

export interface ProgressSource {
  /** Bytes out of the dump tool so far. */
  rawBytes(): number;
  /** Bytes stored so far (compressed, encrypted). */
  storedBytes(): number;
}

export interface ProgressTask {
  /** What is being done, first on the line: `dumping shop`, `[1/2] checking sha256`. */
  label: string;
  /** The log line's message in log mode: `dump in progress`. */
  message: string;
  /** The count the rate, percentage and ETA are about (its name: `read`). */
  main: { name: string; bytes: () => number };
  /** A second count shown beside it (`stored`, `plain`). */
  second?: { name: string; bytes: () => number };
  /** What `main` will reach, when known. */
  total?: number;
  /** `total` is an estimate (a database's size on disk): shown with `~`, never above 99 %. */
  approximate?: boolean;
}

export interface Progress {
  /** Starts showing `task`; the returned function stops it (in a terminal, erases the line). */
  start(task: ProgressTask): () => void;
}

export type ProgressMode = 'line' | 'log' | 'off';

export interface ProgressOptions {
  mode: ProgressMode;
  log: Logger;
  /** Where the line goes (mode `line`): a terminal. */
  stream?: NodeJS.WritableStream & { columns?: number };
  /** Between two log lines (mode `log`); the line is redrawn every 250 ms. */
  intervalMs?: number;
  now?: () => number;
}

/** Human size: 1.5 GiB, 12.0 MiB, 512 B. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** 75 → `1:15`, 4000 → `1:06:40`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const two = (n: number) => String(n).padStart(2, '0');
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/** A task's state at one moment: what both the line and the log line show. */
export interface ProgressSnapshot {
  main: number;
  second?: number;
  bytesPerSecond: number;
  elapsedSeconds: number;
  percent?: number;
  etaSeconds?: number;
}

/** The pure part: counts and the rate (over the last few seconds) → percentage and ETA. */
export function snapshot(
  task: ProgressTask,
  main: number,
  second: number | undefined,
  bytesPerSecond: number,
  elapsedSeconds: number,
): ProgressSnapshot {
  const s: ProgressSnapshot = { main, bytesPerSecond, elapsedSeconds };
  if (second !== undefined) s.second = second;
  if (task.total !== undefined && task.total > 0) {
    const pct = Math.floor((main / task.total) * 100);
    s.percent = task.approximate ? Math.min(99, pct) : Math.min(100, pct);
    if (bytesPerSecond > 0 && main < task.total)
      s.etaSeconds = Math.round((task.total - main) / bytesPerSecond);
  }
  return s;
}

/** `dumping shop: 512.0 MiB of ~1.2 GiB read, 120.3 MiB stored, 85.2 MiB/s, 42%, ETA 0:08` */
export function formatLine(task: ProgressTask, s: ProgressSnapshot): string {
  const total =
    task.total !== undefined ? ` of ${task.approximate ? '~' : ''}${formatBytes(task.total)}` : '';
  const parts = [`${formatBytes(s.main)}${total} ${task.main.name}`];
  if (task.second && s.second !== undefined)
    parts.push(`${formatBytes(s.second)} ${task.second.name}`);
  parts.push(`${formatBytes(Math.round(s.bytesPerSecond))}/s`);
  if (s.percent !== undefined) parts.push(`${s.percent}%`);
  if (s.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(s.etaSeconds)}`);
  return `${task.label}: ${parts.join(', ')}`;
}

/** The log line's fields: each count once, in the units the other log lines use. */
export function logFields(task: ProgressTask, s: ProgressSnapshot): Record<string, unknown> {
  const f: Record<string, unknown> = { [task.main.name]: formatBytes(s.main) };
  if (task.second && s.second !== undefined) f[task.second.name] = formatBytes(s.second);
  if (task.total !== undefined) f.of = `${task.approximate ? '~' : ''}${formatBytes(task.total)}`;
  f.rate = `${formatBytes(Math.round(s.bytesPerSecond))}/s`;
  if (s.percent !== undefined) f.percent = s.percent;
  if (s.etaSeconds !== undefined) f.etaSeconds = s.etaSeconds;
  f.elapsedSeconds = Math.round(s.elapsedSeconds);
  return f;
}

/** ANSI: erase from the cursor to the end of the line. */
const ERASE = '\x1b[K';
const LINE_MS = 250;

export function createProgress(o: ProgressOptions): Progress {
  const now = o.now ?? Date.now;
  return {
    start(task) {
      if (o.mode === 'off') return () => undefined;
      const line = o.mode === 'line' && o.stream !== undefined;
      const interval = line ? LINE_MS : (o.intervalMs ?? 5000);
      // The rate is measured over a window of recent samples: a stall shows.
      const windowMs = Math.max(5000, 2 * interval);
      const started = now();
      const samples: [number, number][] = [[started, task.main.bytes()]];
      let drawn = false;
      const tick = () => {
        const t = now();
        const main = task.main.bytes();
        samples.push([t, main]);
        while (samples.length > 2 && t - samples[1]![0] >= windowMs) samples.shift();
        const [t0, b0] = samples[0]!;
        const rate = t > t0 ? ((main - b0) * 1000) / (t - t0) : 0;
        const s = snapshot(task, main, task.second?.bytes(), rate, (t - started) / 1000);
        if (!line) return o.log.info(task.message, logFields(task, s));
        const width = Math.max(20, (o.stream!.columns ?? 80) - 1);
        o.stream!.write(`\r${formatLine(task, s).slice(0, width)}${ERASE}`);
        drawn = true;
      };
      const timer = setInterval(tick, interval);
      timer.unref();
      return () => {
        clearInterval(timer);
        if (drawn) o.stream!.write(`\r${ERASE}`);
        drawn = false;
      };
    },
  };
}

/** Shows nothing. */
export const noProgress: Progress = { start: () => () => undefined };

/** Log lines only: the dump of a CronJob, and any caller without a terminal. */
export function logProgress(log: Logger, intervalMs?: number): Progress {
  return createProgress({ mode: 'log', log, intervalMs });
}

/**
 * Logs a dump's progress every `intervalMs`: bytes read and stored, the rate
 * of the dump, elapsed time. Returns a stop function.
 */
export function startProgress(
  log: Logger,
  source: ProgressSource,
  intervalMs = 5000,
  now: () => number = Date.now,
): () => void {
  return createProgress({ mode: 'log', log, intervalMs, now }).start({
    label: 'dump',
    message: 'dump in progress',
    main: { name: 'read', bytes: () => source.rawBytes() },
    second: { name: 'stored', bytes: () => source.storedBytes() },
  });
}

/**
 * `storage` whose downloads count their bytes into `counter` as they are
 * read: the progress of a download, whatever reads it.
 */
export function countingStorage(storage: Storage, counter: { bytes: number }): Storage {
  const get = async (key: string, signal?: AbortSignal): Promise<Readable> => {
    const body = await storage.get(key, signal);
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        counter.bytes += chunk.length;
        done(null, chunk);
      },
    });
    // Errors and an early end travel both ways, as in any pipeline.
    return pipeline(body, count, () => undefined);
  };
  return new Proxy(storage, {
    get(target, prop) {
      if (prop === 'get') return get;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
