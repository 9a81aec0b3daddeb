// The dumper's result line is one contract (src/contract/dump-result.ts): what
// the dumper writes, the status controller reads back to the same value, with
// the same schema; and a line that is not a result stays read as it always
// was (a failure that says why), never a throw.
import { describe, expect, it } from 'vitest';
import {
  dumpResultSchema,
  formatResult,
  MAX_RESULT_BYTES,
  type DumpResult,
  type FailureResult,
  type SuccessResult,
} from '../../src/contract/dump-result.js';
import { parseTerminationMessage } from '../../src/status/result.js';

const times = {
  durationSeconds: 12.5,
  startedAt: '2026-11-20T03:00:00.000Z',
  finishedAt: '2026-11-20T03:00:12.500Z',
};
const object = (i: number) => ({
  key: `shop/postgres/20261120T030000.000Z-k3f9q2/database_${i}.sql.gz.age`,
  bytes: 1000 + i,
  sha256: i.toString(16).padStart(64, '0'),
});
const success = (n: number, more: Partial<SuccessResult> = {}): SuccessResult => ({
  ok: true,
  manifestKey: 'shop/postgres/20261120T030000.000Z-k3f9q2/manifest.json',
  objects: Array.from({ length: n }, (_, i) => object(i)),
  bytes: 1234,
  rawBytes: 5678,
  serverVersion: '16.4',
  ...times,
  ...more,
});
const failure = (error: string): FailureResult => ({ ok: false, error, ...times });

/** What the status controller keeps of a result: every field but the two it does not read. */
const asRead = (r: DumpResult) => {
  const { retention: _r, objectsTruncated: _t, ...rest } = r as SuccessResult;
  return { readable: true, ...(r.ok ? rest : r) };
};

// Moved here from test/unit/dump-result.test.ts with formatResult (assertions unchanged).
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
    const line = formatResult(failure('pg_dump exited with code 1: ' + 'é🎉'.repeat(5000)));
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    const parsed = JSON.parse(line);
    expect(parsed.ok).toBe(false);
    expect(parsed.error.startsWith('pg_dump exited with code 1: ')).toBe(true);
    expect(parsed.error.endsWith('…')).toBe(true);
  });
});

describe('given a result the dumper writes, when read back', () => {
  it.each<[string, DumpResult]>([
    ['a success', success(2)],
    [
      'a success that shrank, with retention applied',
      success(1, {
        shrank: 'the backup shrank: 1000 rows fewer (1010 → 10, -99%)',
        retention: { kept: 7, removed: 2 },
      }),
    ],
    ['a success whose retention failed', success(1, { retention: { error: 'AccessDenied' } })],
    ['a success with no object', success(0)],
    ['a failure', failure('pg_dump exited with code 1: FATAL: password authentication failed')],
  ])(
    'given %s, then the schema gives back the same value, and the status controller reads it',
    (_n, written) => {
      const line = formatResult(written);
      expect(dumpResultSchema.parse(JSON.parse(line))).toEqual(written);
      expect(parseTerminationMessage(line)).toEqual(asRead(written));
    },
  );

  it('given a success cut at the 4096-byte cap, then it parses to the objects that fit, marked as cut', () => {
    const written = success(300, { shrank: 'fewer rows', retention: { kept: 3, removed: 0 } });
    const line = formatResult(written);
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    const read = dumpResultSchema.parse(JSON.parse(line));
    if (!read.ok) throw new Error('expected a success');
    const kept = read.objects.length;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(300);
    expect(read).toEqual({
      ...written,
      objects: written.objects.slice(0, kept),
      objectsTruncated: true,
    });
    // One more object would not have fitted.
    const oneMore = JSON.stringify({ ...read, objects: written.objects.slice(0, kept + 1) });
    expect(Buffer.byteLength(oneMore)).toBeGreaterThan(MAX_RESULT_BYTES);
    expect(parseTerminationMessage(line)).toEqual(asRead(read));
  });

  it('given a failure whose error is cut at the cap, then it parses to the prefix that fits, ending in …', () => {
    const written = failure('mysqldump: ' + 'é🎉 '.repeat(3000));
    const line = formatResult(written);
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_RESULT_BYTES);
    const read = dumpResultSchema.parse(JSON.parse(line));
    if (read.ok) throw new Error('expected a failure');
    expect(read).toEqual({ ...written, error: read.error });
    expect(read.error.endsWith('…')).toBe(true);
    expect(written.error.startsWith(read.error.slice(0, -1))).toBe(true);
    expect(parseTerminationMessage(line)).toEqual({ readable: true, ...read });
  });

  it('given a result missing a field the dumper always writes, then the writer schema refuses it, the reader still takes it', () => {
    const { serverVersion: _v, ...partial } = success(1);
    expect(dumpResultSchema.safeParse(partial).success).toBe(false);
    expect(parseTerminationMessage(JSON.stringify(partial))).toMatchObject({
      readable: true,
      ok: true,
    });
  });
});

describe('given a line that is not (quite) a dumper result, when the status controller reads it', () => {
  const notResult = (text: string) => ({
    readable: false,
    ok: false,
    error: `termination message is not a snapkeeper result: ${text}`,
  });
  it.each([
    ['empty', '', { readable: false, ok: false, error: 'no termination message' }],
    ['blank lines', '  \n \n', { readable: false, ok: false, error: 'no termination message' }],
    ['plain text', 'Error: boom', notResult('Error: boom')],
    [
      'cut JSON',
      '{"ok":true,"bytes":12',
      { readable: false, ok: false, error: 'termination message truncated: {"ok":true,"bytes":12' },
    ],
    ['JSON of another shape', '{"hello":1}', notResult('{"hello":1}')],
    ['a JSON array', '[1,2]', notResult('[1,2]')],
    ['JSON null', 'null', notResult('null')],
    ['ok of a wrong type', '{"ok":"yes"}', notResult('{"ok":"yes"}')],
    ['a negative size', '{"ok":true,"bytes":-1}', notResult('{"ok":true,"bytes":-1}')],
    ['a size as a string', '{"ok":true,"bytes":"12"}', notResult('{"ok":true,"bytes":"12"}')],
    [
      'an object without its key',
      '{"ok":true,"objects":[{"bytes":1}]}',
      notResult('{"ok":true,"objects":[{"bytes":1}]}'),
    ],
    ['an error that is not text', '{"ok":false,"error":5}', notResult('{"ok":false,"error":5}')],
    ['a shrank that is not text', '{"ok":true,"shrank":5}', notResult('{"ok":true,"shrank":5}')],
    ['two lines, neither a result', 'INFO start\n{"hello":1}', notResult('INFO start {"hello":1}')],
  ])('given %s, then the same unreadable failure as ever', (_name, text, expected) => {
    expect(parseTerminationMessage(text)).toEqual(expected);
  });

  it.each([
    ['only ok', '{"ok":true}', { readable: true, ok: true }],
    ['a failure without its error', '{"ok":false}', { readable: true, ok: false }],
    [
      'an object with its key only',
      '{"ok":true,"objects":[{"key":"a/b"}]}',
      { readable: true, ok: true, objects: [{ key: 'a/b' }] },
    ],
    [
      'fields nobody reads, of any shape (retention, objectsTruncated, unknown ones)',
      '{"ok":true,"bytes":3,"retention":"junk","objectsTruncated":"x","extra":1}',
      { readable: true, ok: true, bytes: 3 },
    ],
    [
      'log lines before the result',
      'INFO start\n{"ok":false,"error":"boom"}\n',
      { readable: true, ok: false, error: 'boom' },
    ],
  ])('given %s, then it is read as a result, as ever', (_name, text, expected) => {
    expect(parseTerminationMessage(text)).toEqual(expected);
  });
});
