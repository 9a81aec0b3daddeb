import { describe, expect, it } from 'vitest';
import {
  DEFAULT_PART_PLAN,
  MAX_PART_BYTES,
  partSizeAt,
  partsInFlight,
  planCapacity,
} from '../../src/storage/multipart.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

describe('growing multipart parts', () => {
  it.each([
    [0, 8 * MiB],
    [999, 8 * MiB],
    [1000, 16 * MiB],
    [2999, 32 * MiB],
    [3000, 64 * MiB],
    [6000, 512 * MiB],
    [9999, 4 * GiB],
    [99_999, MAX_PART_BYTES],
  ])('given the default plan, part %i is %i bytes', (index, size) => {
    expect(partSizeAt(DEFAULT_PART_PLAN, index)).toBe(size);
  });

  it("given the default plan, then 10,000 parts hold S3's largest object (5 TiB); fixed 8 MiB parts would hold 78 GiB", () => {
    expect(planCapacity(DEFAULT_PART_PLAN)).toBeGreaterThanOrEqual(5 * TiB);
    expect(planCapacity({ ...DEFAULT_PART_PLAN, growEvery: Infinity })).toBe(10_000 * 8 * MiB);
  });

  it.each([
    [8 * MiB, 2],
    [16 * MiB, 1],
    [32 * MiB, 1],
    [64 * MiB, 1],
    [1 * GiB, 1],
  ])('given parts of %i bytes, then %i in flight at once', (size, n) => {
    expect(partsInFlight(DEFAULT_PART_PLAN, size)).toBe(n);
  });

  it('given the default plan, then part buffers stay within 24 MiB up to 7.8 GiB of dump, 32 MiB up to 23 GiB and 64 MiB up to 54 GiB', () => {
    let total = 0;
    for (let i = 0; i < 10_000; i++) {
      const size = partSizeAt(DEFAULT_PART_PLAN, i);
      // the part being filled, and those in flight
      const buffers = (partsInFlight(DEFAULT_PART_PLAN, size) + 1) * size;
      if (total < 7.8 * GiB) expect(buffers).toBeLessThanOrEqual(24 * MiB);
      else if (total < 23 * GiB) expect(buffers).toBeLessThanOrEqual(32 * MiB);
      else if (total < 54 * GiB) expect(buffers).toBeLessThanOrEqual(64 * MiB);
      else break;
      total += size;
    }
    expect(total).toBeGreaterThanOrEqual(54 * GiB);
  });
});
