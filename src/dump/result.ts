/**
 * The dumper's result: one JSON line (docs/architecture.md, "The dumper's
 * result"), at most 4096 bytes — the kubelet's cap on a termination message.
 */
import { writeFile } from 'node:fs/promises';

export const MAX_RESULT_BYTES = 4096;

export interface SuccessResult {
  ok: true;
  manifestKey: string;
  objects: { key: string; bytes: number; sha256: string }[];
  bytes: number;
  rawBytes: number;
  durationSeconds: number;
  serverVersion: string;
  startedAt: string;
  finishedAt: string;
  /** BackupShrank: why this backup holds far less than the one before (absent: it does not). */
  shrank?: string;
  /** What retention did after the backup (absent: no policy). */
  retention?: { kept: number; removed: number } | { error: string };
}

export interface FailureResult {
  ok: false;
  error: string;
  durationSeconds: number;
  startedAt: string;
  finishedAt: string;
}

export type DumpResult = SuccessResult | FailureResult;

const size = (s: string) => Buffer.byteLength(s, 'utf8');

/**
 * The result as one line of at most `max` bytes: a long error is cut (with
 * `…`), a long object list is shortened to what fits (the manifest has all).
 */
export function formatResult(result: DumpResult, max = MAX_RESULT_BYTES): string {
  let line = JSON.stringify(result);
  if (size(line) <= max) return line;
  if (!result.ok) {
    // The longest prefix (whole code points) that fits, by bisection.
    const points = Array.from(result.error);
    const cut = (n: number) =>
      JSON.stringify({ ...result, error: points.slice(0, n).join('') + '…' });
    let lo = 0;
    let hi = points.length;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (size(cut(mid)) <= max) lo = mid;
      else hi = mid - 1;
    }
    return cut(lo);
  }
  const objects = [...result.objects];
  while (size(line) > max && objects.length > 0) {
    objects.pop();
    line = JSON.stringify({ ...result, objects, objectsTruncated: true });
  }
  return line;
}

/** Writes the line to the termination-message path (best effort: a missing /dev/termination-log is not a failure). */
export async function writeResult(line: string, path: string | undefined): Promise<boolean> {
  if (!path) return false;
  try {
    await writeFile(path, line);
    return true;
  } catch {
    return false;
  }
}
