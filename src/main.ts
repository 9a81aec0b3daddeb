import { run } from './cli.js';
import { defaultContext } from './cli/context.js';

// The only place that exits. SIGINT/SIGTERM abort the signal so that a running
// backup aborts its upload before the process ends.
const controller = new AbortController();
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => controller.abort(new Error(`received ${sig}`)));
}
const code = await run(process.argv.slice(2), defaultContext(controller.signal));
process.exitCode = code;
