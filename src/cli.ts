import { Command, CommanderError, Option } from 'commander';
import { OutputClosedError, SnapkeeperError, UserError, describeError } from './errors.js';
import { parseFormat, parseLevel, type Level, type LogFormat } from './log.js';
import { VERSION } from './version.js';
import { defaultContext, type CliContext } from './cli/context.js';
import * as operator from './cli/operator.js';
import * as dump from './cli/dump.js';
import * as backup from './cli/backup.js';
import * as list from './cli/list.js';
import * as restore from './cli/restore.js';
import * as decrypt from './cli/decrypt.js';
import * as verify from './cli/verify.js';
import * as prune from './cli/prune.js';
import * as status from './cli/status.js';
import * as trigger from './cli/trigger.js';

const commands = [operator, dump, backup, list, restore, decrypt, verify, prune, status, trigger];

// Proving and looking at backups (issue 11).
import * as restoreTest from './cli/restore-test.js';
import * as describe from './cli/describe.js';
import * as diff from './cli/diff.js';
const backupInsight = [restoreTest, describe, diff];

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
      // Commander's own errors are user mistakes: keep them to one line.
      outputError: (s, write) => write(s.split('\n')[0] + '\n'),
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
      ctx.log = configuredLog(action.optsWithGlobals(), ctx);
    });
  for (const c of [...commands, ...backupInsight]) c.register(program, ctx);
  for (const sub of program.commands) {
    sub
      .exitOverride()
      .showHelpAfterError(false)
      .configureOutput({
        writeOut: (s) => ctx.stdout.write(s),
        writeErr: (s) => ctx.stderr.write(s),
        outputError: (s, write) => write(s.split('\n')[0] + '\n'),
      });
  }
  return program;
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
function configuredLog(flags: LogFlags, ctx: CliContext) {
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
  if (level === undefined && format === undefined) return ctx.log;
  return ctx.log.reconfigure({ level, format });
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
