import { formatBytes as humanBytes } from '../pipeline/progress.js';

/** Sizes and durations as people read them (tables, Event messages). */
export function formatBytes(n: number | undefined): string {
  return n === undefined ? '-' : humanBytes(n);
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  if (seconds < 60) return `${Math.round(seconds * 10) / 10}s`;
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  if (m < 60) return `${m}m${s ? `${s}s` : ''}`;
  return `${Math.floor(m / 60)}h${m % 60 ? `${m % 60}m` : ''}`;
}
