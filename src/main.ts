import { run } from './cli.js';
import { defaultContext } from './cli/context.js';
import { OperationError, OutputClosedError, describeError } from './errors.js';

// The only place that exits. SIGINT/SIGTERM abort the signal so that a running
// backup aborts its upload before the process ends. So does a reader of
// standard output that went away (`| head`: EPIPE on the next write): the
// command stops quietly instead of dying of an unhandled 'error' event.
const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => controller.abort(new Error(`received ${sig}`)));
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
