import { run } from './cli.js';
import { defaultContext } from './cli/context.js';
import { InterruptedError, OperationError, OutputClosedError, describeError } from './errors.js';
import { availableCores } from './pipeline/cores.js';

// The only place that exits. Whatever must stop a running command aborts one
// signal, so the command can undo what it started (abort an upload, drop the
// database it created) before it returns:
// - SIGINT / SIGTERM (a second one ends the process at once: the handlers are `once`);
// - a reader of standard output that went away (`| head`): EPIPE on the next write.
// The AWS SDK warns on every S3 command (process.emitWarning, 8 lines) that
// its future versions will need a newer Node than `engines` allows: nothing
// a user of snapkeeper can act on. This is the SDK's own switch for exactly
// that warning; every other warning still shows.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

// gzip compresses blocks on libuv's thread pool (src/pipeline/gzip.ts): one
// thread per core, plus one for the pool's other users (files, DNS). Read
// when the pool first starts, which nothing has done yet at this point.
process.env.UV_THREADPOOL_SIZE ??= String(Math.max(4, availableCores() + 1));

const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => controller.abort(new InterruptedError(sig)));
}
process.stdout.on('error', (err: NodeJS.ErrnoException) =>
  controller.abort(
    err.code === 'EPIPE'
      ? new OutputClosedError()
      : new OperationError(`write to standard output: ${describeError(err)}`, { cause: err }),
  ),
);
// Logs and messages go to stderr; when nobody reads it there is nowhere to say so.
process.stderr.on('error', () => undefined);
const code = await run(process.argv.slice(2), defaultContext(controller.signal));
process.exitCode = code;
