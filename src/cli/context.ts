import type { Writable } from 'node:stream';
import { createLogger, type Logger } from '../log.js';

/** What a command may touch of the outside world; tests pass their own. */
export interface CliContext {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** Aborted on SIGINT/SIGTERM, so long operations can clean up (abort uploads). */
  signal: AbortSignal;
}

export function defaultContext(signal: AbortSignal = new AbortController().signal): CliContext {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    log: createLogger(),
    signal,
  };
}
