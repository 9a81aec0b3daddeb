import { Command, CommanderError, Option } from 'commander';
import { OutputClosedError, SnapkeeperError, UserError, describeError } from './errors.js';
import { parseFormat, parseLevel, type Level, type LogFormat, type Logger } from './log.js';
import { createProgress, type ProgressMode } from './pipeline/progress.js';
import { VERSION } from './version.js';
import { defaultContext, type CliContext } from './cli/context.js';
import {
  registerBackup,
  registerDecrypt,
  registerRestore,
  registerRestoreTest,
  registerVerify,
} from './cli/commands/backups.js';
import { registerCompletion, registerStatus, registerTrigger } from './cli/commands/cluster.js';
import { register as registerDump } from './cli/dump.js';
import { register as registerOperator } from './cli/operator.js';
import {
  registerDelete,
  registerDescribe,
  registerDiff,
  registerKeep,
  registerList,
  registerPrune,
} from './cli/commands/manage.js';

/**
 * Every command, in the order --help lists them. Registering one declares
 * its flags and help only: its implementation (and the AWS SDK, age, the
 * Kubernetes client) is imported when it runs, so a command loads what it
 * needs and no more (peak memory: bench/RESULTS.md).
 */
const commands = [
  registerOperator,
  registerDump,
  registerBackup,
  registerList,
  registerRestore,
  registerDecrypt,
  registerVerify,
  registerPrune,
  registerStatus,
  registerTrigger,
  registerDelete,
  registerKeep,
  registerCompletion,
  registerRestoreTest,
  registerDescribe,
  registerDiff,
];

export function buildProgram(ctx: CliContext): Command {
  const program = new Command('snapkeeper')
    .description(
      'Scheduled, streamed, encrypted logical backups of the databases in a Kubernetes cluster, ' +
        'and the commands to get them back.',
    )
    .version(VERSION, '-V, --version')
    .configureOutput({
      writeOut: (s) => ctx.stdout.write(s),
      writeErr: (s) => ctx.stderr.write(s),
      outputError: (s, write) => write(commanderError(s)),
    })
    .exitOverride()
    // Every command's --help shows the logging options below.
    .configureHelp({ showGlobalOptions: true })
    .option('-q, --quiet', 'log warnings and errors only')
    .option('-v, --verbose', 'log debug messages too')
    .addOption(
      new Option(
        '--log-format <format>',
        'log lines as text or json (default: text on a terminal, json elsewhere; ' +
          'or SNAPKEEPER_LOG_FORMAT)',
      ).choices(['text', 'json']),
    )
    .hook('preAction', (_, action) => {
      const { log, quiet, format } = configuredLog(action.optsWithGlobals(), ctx);
      ctx.log = log;
      ctx.progress = createProgress({
        mode: progressMode(ctx.stderr, quiet, format),
        log,
        stream: ctx.stderr,
      });
    });
  for (const register of commands) register(program, ctx);
  for (const sub of program.commands) {
    sub
      .exitOverride()
      .showHelpAfterError(false)
      .configureOutput({
        writeOut: (s) => ctx.stdout.write(s),
        writeErr: (s) => ctx.stderr.write(s),
        outputError: (s, write) => write(commanderError(s)),
      });
  }
  return program;
}

/**
 * Commander's own errors are user mistakes: one line with the prefix of
 * every other error, its suggestion kept (`error: unknown command 'bakup'`
 * + `(Did you mean backup?)` → `snapkeeper: unknown command 'bakup' (did
 * you mean backup?)`).
 */
export function commanderError(text: string): string {
  const line = text
    .replace(/^error:\s*/, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ')
    .replace(/\(Did you mean/g, '(did you mean');
  return `snapkeeper: ${line}\n`;
}

interface LogFlags {
  quiet?: boolean;
  verbose?: boolean;
  logFormat?: LogFormat;
}

/**
 * The context's logger at the level and in the format asked for: flags
 * first, then SNAPKEEPER_LOG_LEVEL / SNAPKEEPER_LOG_FORMAT. A value that
 * means nothing is a user mistake, never silently replaced by the default.
 */
function configuredLog(
  flags: LogFlags,
  ctx: CliContext,
): { log: Logger; quiet: boolean; format: LogFormat | undefined } {
  if (flags.quiet && flags.verbose) throw new UserError('give -q or -v, not both');
  const envLevel = nonEmpty(ctx.env.SNAPKEEPER_LOG_LEVEL);
  const envFormat = nonEmpty(ctx.env.SNAPKEEPER_LOG_FORMAT);
  let level: Level | undefined =
    envLevel === undefined ? undefined : parseLevel(envLevel, 'SNAPKEEPER_LOG_LEVEL');
  let format: LogFormat | undefined =
    envFormat === undefined ? undefined : parseFormat(envFormat, 'SNAPKEEPER_LOG_FORMAT');
  if (flags.quiet) level = 'warn';
  if (flags.verbose) level = 'debug';
  if (flags.logFormat !== undefined) format = flags.logFormat;
  const quiet = level === 'warn' || level === 'error';
  if (level === undefined && format === undefined) return { log: ctx.log, quiet, format };
  return { log: ctx.log.reconfigure({ level, format }), quiet, format };
}

/**
 * A line rewritten in place when a person watches stderr (a terminal, text
 * logs); log lines otherwise (JSON asked for, a pipe, a Job's logs); none with -q.
 */
export function progressMode(
  stderr: CliContext['stderr'],
  quiet: boolean,
  format: LogFormat | undefined,
): ProgressMode {
  if (quiet) return 'off';
  const tty = (stderr as { isTTY?: boolean }).isTTY === true;
  return tty && (format ?? 'text') === 'text' ? 'line' : 'log';
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

/**
 * Runs the CLI and returns the exit code: 0 success, 1 failed operation (or a
 * bug), 2 user mistake, 130 / 143 interrupted by SIGINT / SIGTERM, 141 the
 * reader of standard output went away. Never calls process.exit; src/main.ts does.
 */
export async function run(
  argv: readonly string[],
  ctx: CliContext = defaultContext(),
): Promise<number> {
  const program = buildProgram(ctx);
  try {
    await program.parseAsync(argv as string[], { from: 'user' });
    return 0;
  } catch (err) {
    // A stopped command fails with whatever the stop broke (an aborted
    // upload, a killed tool); the reason it was stopped is the one to report.
    const cause = stopReason(ctx.signal) ?? err;
    if (cause instanceof OutputClosedError) return cause.exitCode;
    if (cause instanceof CommanderError) {
      // --help and --version end here with exit code 0.
      if (cause.exitCode === 0) return 0;
      return 2;
    }
    if (cause instanceof SnapkeeperError) {
      ctx.stderr.write(`snapkeeper: ${describeError(cause)}\n`);
      return cause.exitCode;
    }
    ctx.stderr.write(
      `snapkeeper: unexpected error: ${cause instanceof Error ? (cause.stack ?? cause.message) : String(cause)}\n`,
    );
    return 1;
  }
}

/** Why the context's signal stopped the command, when it was one of ours (a signal, a closed output). */
function stopReason(signal: AbortSignal): SnapkeeperError | undefined {
  const reason: unknown = signal.aborted ? signal.reason : undefined;
  return reason instanceof SnapkeeperError ? reason : undefined;
}
