import { PassThrough, Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { OperationError, OutputClosedError } from '../../src/errors.js';
import { forwardTo } from '../../src/cli/output.js';

/** A stdout whose reader never reads: every write after the first is "full". */
function stalled(): Writable {
  return new Writable({ highWaterMark: 1, write() {} });
}

const chunks = () => Readable.from(Array.from({ length: 100 }, () => Buffer.alloc(1024, 1)));

describe('forwardTo', () => {
  it('given an output that closes while a write waits for drain, then the pipeline fails with OutputClosedError instead of hanging', async () => {
    const out = stalled();
    const p = pipeline(chunks(), forwardTo(out));
    setTimeout(() => out.destroy(), 10);
    await expect(p).rejects.toBeInstanceOf(OutputClosedError);
  });

  it('given EPIPE on the output, then OutputClosedError; another error, then an OperationError naming it', async () => {
    const epipe = stalled();
    const p1 = pipeline(chunks(), forwardTo(epipe));
    setTimeout(() => epipe.destroy(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' })), 10);
    await expect(p1).rejects.toBeInstanceOf(OutputClosedError);

    const full = stalled();
    const p2 = pipeline(chunks(), forwardTo(full));
    setTimeout(
      () => full.destroy(Object.assign(new Error('no space left'), { code: 'ENOSPC' })),
      10,
    );
    await expect(p2).rejects.toThrow(OperationError);
    await expect(p2).rejects.toThrow(/write to standard output: no space left/);
  });

  it('given a healthy output, then everything arrives and the output is not ended', async () => {
    const out = new PassThrough();
    const got: Buffer[] = [];
    out.on('data', (c: Buffer) => got.push(c));
    await pipeline(chunks(), forwardTo(out));
    expect(Buffer.concat(got).length).toBe(100 * 1024);
    expect(out.writableEnded).toBe(false);
    expect(out.listenerCount('error')).toBe(0);
  });
});
