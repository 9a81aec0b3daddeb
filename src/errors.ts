import { constants as osConstants } from 'node:os';

/**
 * The error model. Code below the CLI throws these; only the entry point
 * (src/cli.ts) turns them into an exit code and one line on stderr.
 *
 *   UserError      — the user asked for something wrong (bad flag, bad URL,
 *                    bad config): exit 2, one line, never a stack trace.
 *   OperationError — a well-formed request failed (database unreachable, S3
 *                    refused, checksum mismatch): exit 1.
 *   InterruptedError — SIGINT / SIGTERM stopped the command after it cleaned
 *                    up: exit 130 / 143, as a shell reports a process killed
 *                    by that signal.
 *   OutputClosedError — the reader of standard output went away (`| head`):
 *                    exit 141 (a process killed by SIGPIPE), nothing printed.
 *
 * Anything else is a bug: exit 1 with the stack, so it can be reported.
 */
export abstract class SnapkeeperError extends Error {
  abstract readonly exitCode: number;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class UserError extends SnapkeeperError {
  readonly exitCode = 2 as const;
}

export class OperationError extends SnapkeeperError {
  readonly exitCode = 1 as const;
}

/** SIGINT or SIGTERM: exit 128 + the signal's number (130, 143), the shell's convention. */
export class InterruptedError extends SnapkeeperError {
  readonly exitCode: number;

  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}`);
    this.exitCode = 128 + osConstants.signals[signal];
  }
}

/**
 * Standard output was closed by its reader (`snapkeeper restore --stdout | head`).
 * Not a failure to report: the command stops quietly, with the status of a
 * process killed by SIGPIPE, as `cat` would end.
 */
export class OutputClosedError extends SnapkeeperError {
  readonly exitCode = 141 as const;

  constructor() {
    super('standard output was closed by its reader');
  }
}

/** Configuration (environment or values) that failed validation: one line per problem. */
export class ConfigError extends UserError {
  constructor(
    readonly problems: readonly string[],
    what = 'invalid configuration',
  ) {
    super(`${what}: ${problems.join('; ')}`);
  }
}

/** The dump tool exited non-zero, or reported an error on stderr. */
export class DumpFailedError extends OperationError {
  constructor(
    readonly tool: string,
    readonly toolExitCode: number | null,
    readonly stderrTail: string,
    readonly signal: NodeJS.Signals | null = null,
  ) {
    const how = signal ? `killed by ${signal}` : `exited with code ${toolExitCode}`;
    const tail = stderrTail.trim();
    super(`${tool} ${how}${tail ? `: ${tail}` : ''}`);
  }
}

/** A short, single-line description of any thrown value, for logs and messages. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message.replace(/\s*\n\s*/g, ' ').trim() || err.name;
  return String(err);
}
