import { describe, expect, it } from 'vitest';
import {
  MAX_RESULT_BYTES,
  formatResult,
  type FailureResult,
  type SuccessResult,
} from '../../src/contract/dump-result.js';

const base = {
  durationSeconds: 1.5,
  startedAt: '2026-11-20T03:00:00.000Z',
  finishedAt: '2026-11-20T03:00:01.500Z',
};
const object = (i: number) => ({
  key: `shop/postgres/20261120T030000Z/database_${i}.sql.gz.age`,
  bytes: 1000 + i,
  sha256: 'a'.repeat(64),
});
const success = (n: number): SuccessResult => ({
  ok: true,
  manifestKey: 'shop/postgres/20261120T030000Z/manifest.json',
  objects: Array.from({ length: n }, (_, i) => object(i)),
  bytes: 1,
  rawBytes: 2,
  serverVersion: '15.4',
  ...base,
});

describe('termination message', () => {
  it('given a small success, then it is the result as one JSON line, unchanged', () => {
    const line = formatResult(success(2));
    expect(line).not.toContain('\n');
    expect(JSON.parse(line)).toEqual(success(2));
  });

  it('given hundreds of objects, then the line is cut to 4096 bytes by dropping objects, and says so', () => {
    const line = formatResult(success(300));
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    const parsed = JSON.parse(line);
    expect(parsed.objectsTruncated).toBe(true);
    expect(parsed.manifestKey).toBe(success(1).manifestKey);
    expect(parsed.objects.length).toBeGreaterThan(0);
    expect(parsed.objects.length).toBeLessThan(300);
  });

  it('given a huge multi-byte error, then the line stays under 4096 bytes, valid JSON, ending in …', () => {
    const failure: FailureResult = {
      ok: false,
      error: 'pg_dump exited with code 1: ' + 'é🎉'.repeat(5000),
      ...base,
    };
    const line = formatResult(failure);
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    const parsed = JSON.parse(line);
    expect(parsed.ok).toBe(false);
    expect(parsed.error.startsWith('pg_dump exited with code 1: ')).toBe(true);
    expect(parsed.error.endsWith('…')).toBe(true);
  });
});
