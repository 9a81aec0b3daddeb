/**
 * The error model. Code below the CLI throws these; only the entry point
 * (src/cli.ts) turns them into an exit code and one line on stderr.
 *
 *   UserError      — the user asked for something wrong (bad flag, bad URL,
 *                    bad config): exit 2, one line, never a stack trace.
 *   OperationError — a well-formed request failed (database unreachable, S3
 *                    refused, checksum mismatch): exit 1.
 *
 * Anything else is a bug: exit 1 with the stack, so it can be reported.
 */
export abstract class SnapkeeperError extends Error {
  abstract readonly exitCode: 1 | 2;

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
