import type { Logger } from '../log.js';

export interface ProgressSource {
  /** Bytes out of the dump tool so far. */
  rawBytes(): number;
  /** Bytes stored so far (compressed, encrypted). */
  storedBytes(): number;
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

/**
 * Logs progress every `intervalMs`: bytes read and stored, the rate of the
 * dump, elapsed time. Returns a stop function.
 */
export function startProgress(
  log: Logger,
  source: ProgressSource,
  intervalMs = 5000,
  now: () => number = Date.now,
): () => void {
  const started = now();
  const timer = setInterval(() => {
    const elapsed = (now() - started) / 1000;
    const raw = source.rawBytes();
    log.info('dump in progress', {
      read: formatBytes(raw),
      stored: formatBytes(source.storedBytes()),
      rate: `${formatBytes(elapsed > 0 ? raw / elapsed : 0)}/s`,
      elapsedSeconds: Math.round(elapsed),
      rawBytes: raw,
      bytes: source.storedBytes(),
    });
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
