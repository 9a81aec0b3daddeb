import type { Writable } from 'node:stream';
import { createLogger, type Logger } from '../log.js';
import { logProgress, type Progress } from '../pipeline/progress.js';

/** What a command may touch of the outside world; tests pass their own. */
export interface CliContext {
  /** Where a password is asked from, when it is a terminal (src/cli/password.ts). */
  stdin?: NodeJS.ReadStream;
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Aborted on SIGINT/SIGTERM, so long operations can clean up (abort uploads). */
  signal: AbortSignal;
  /** Where long transfers show their progress (cli.ts: a line on a terminal, log lines elsewhere, none with -q). */
  progress?: Progress;
}

/** The context's progress display; log lines when none was chosen. */
export function progressOf(ctx: CliContext): Progress {
  return (ctx.progress ??= logProgress(ctx.log));
}

export function defaultContext(signal: AbortSignal = new AbortController().signal): CliContext {
  return {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    log: createLogger(),
    signal,
  };
}
