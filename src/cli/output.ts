/** Writing a command's data (a dump, a decrypted file) to standard output. */
import { Writable } from 'node:stream';
import { OutputClosedError, OperationError, describeError } from '../errors.js';

/**
 * A Writable that forwards to `out` (with its backpressure) without ever
 * ending it. When `out` fails — its reader went away (EPIPE, `| head`) or it
 * was closed — the pending and every later write fail with
 * OutputClosedError, so the pipeline feeding it stops (and its download with
 * it) instead of waiting for a `drain` that never comes.
 */
export function forwardTo(out: NodeJS.WritableStream): Writable {
  let broken: Error | undefined;
  let pending: ((err?: Error | null) => void) | undefined;
  const fail = (err?: Error) => {
    broken ??=
      err === undefined || (err as NodeJS.ErrnoException).code === 'EPIPE'
        ? new OutputClosedError()
        : new OperationError(`write to standard output: ${describeError(err)}`, { cause: err });
    const p = pending;
    pending = undefined;
    p?.(broken);
  };
  const onError = (err: Error) => fail(err);
  const onClose = () => fail();
  const onDrain = () => {
    const p = pending;
    pending = undefined;
    p?.();
  };
  out.on('error', onError);
  out.on('close', onClose);
  out.on('drain', onDrain);
  const detach = () => {
    out.off('error', onError);
    out.off('close', onClose);
    out.off('drain', onDrain);
  };
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      if (broken) return done(broken);
      if (out.write(chunk)) return done();
      if (broken) return done(broken);
      pending = done;
    },
    final(done) {
      detach();
      done();
    },
    destroy(err, done) {
      detach();
      done(err);
    },
  });
}
