/**
 * What both termination-message lines (the dumper's result, the restore-test
 * report) need to fit the kubelet's cap of 4096 bytes.
 */

/** A line's size as the kubelet counts it: UTF-8 bytes. */
export const byteSize = (s: string): number => Buffer.byteLength(s, 'utf8');

/**
 * The largest n in [lo, hi] for which `fits(n)` holds, by bisection, where
 * `fits` holds up to some n and not beyond (a longer prefix, more items); lo
 * when none does.
 */
export function largestFitting(lo: number, hi: number, fits: (n: number) => boolean): number {
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
