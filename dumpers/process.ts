/**
 * Running dump and restore tools: spawn without a shell, a minimal
 * environment (the tool gets its own variables, not the dumper's AWS
 * credentials), stderr kept as a bounded tail for the error message.
 */
import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import { PassThrough, finished, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DumpFailedError, OperationError, describeError } from '../src/errors.js';
import { withOutputBuffer } from './executables.js';
import type { DumpHandle, EngineContext, SpawnFn, ToolCommand } from './types.js';

/** Bytes of stderr kept for the error message. */
export const STDERR_TAIL_BYTES = 2048;

/** Variables of the dumper's own environment a tool may see. */
const PASSED_THROUGH = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR'];

export const defaultSpawn: SpawnFn = (file, args, options) =>
  nodeSpawn(file, args as string[], {
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    signal: options.signal,
    shell: false,
  });

/** The environment a tool runs with: a few harmless variables plus its own. */
export function toolEnv(
  own: Record<string, string>,
  parent: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of PASSED_THROUGH) {
    const v = parent[k];
    if (v !== undefined) env[k] = v;
  }
  return { ...env, ...own };
}

/** A bounded tail of a text stream. */
export class TailBuffer {
  private buf = '';
  constructor(private readonly max = STDERR_TAIL_BYTES) {}
  push(chunk: Buffer | string): void {
    this.buf += chunk.toString();
    if (this.buf.length > this.max * 2) this.buf = this.buf.slice(-this.max);
  }
  toString(): string {
    const s = this.buf.length > this.max ? '…' + this.buf.slice(-this.max) : this.buf;
    return s.trim();
  }
}

export interface RunOptions {
  /** Exit 0 with stderr matching this is still a failure (tools that report some errors only on stderr). */
  stderrFailure?: RegExp;
  /** Name in messages (defaults to the file's basename). */
  tool?: string;
}

export interface DumpOptions extends RunOptions {
  /**
   * Give the tool's stdout a 1 MiB stdio buffer (coreutils `stdbuf`) when
   * the machine has a working one. For C tools that write their output
   * through stdio (pg_dump, mysqldump): by default they write 8 KiB at a
   * time, and reading ~100,000 pieces per 0.7 GB cost the backup's process
   * about a second of CPU; with the buffer, reads are 64 KiB. The output's
   * bytes are the same.
   */
  outputBuffer?: boolean;
}

function toolName(cmd: ToolCommand, options: RunOptions): string {
  return options.tool ?? cmd.file.split('/').pop() ?? cmd.file;
}

/**
 * Waits for a started child: resolves on exit 0 (and no stderr failure),
 * rejects with DumpFailedError otherwise.
 */
function completion(child: ChildProcess, tool: string, options: RunOptions): Promise<void> {
  const tail = new TailBuffer();
  child.stderr?.on('data', (c: Buffer) => tail.push(c));
  return new Promise<void>((resolve, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') reject(new OperationError(`${tool} not found: ${err.message}`));
      else if (err.name === 'AbortError')
        reject(new DumpFailedError(tool, null, 'aborted', 'SIGTERM'));
      else reject(new DumpFailedError(tool, null, err.message));
    });
    child.once('close', (code, signal) => {
      const text = tail.toString();
      if (code === 0 && !(options.stderrFailure && options.stderrFailure.test(text))) resolve();
      else reject(new DumpFailedError(tool, code, text, signal));
    });
  });
}

/** A tool that exits before reading its stdin (EPIPE) is reported by its exit status, not by the write. */
function quietStdin(child: ChildProcess): void {
  child.stdin?.on('error', () => undefined);
}

/** Starts a dump tool; its stdout is the dump. */
export function startDump(
  cmd: ToolCommand,
  ctx: EngineContext,
  options: DumpOptions = {},
): DumpHandle & { child: ChildProcess } {
  const spawn = ctx.spawn ?? defaultSpawn;
  const run = options.outputBuffer ? withOutputBuffer(cmd) : cmd;
  const child = spawn(run.file, run.args, { env: toolEnv(run.env), signal: ctx.signal });
  quietStdin(child);
  child.stdin?.end();
  const done = completion(child, toolName(cmd, options), options);
  done.catch(() => undefined); // observed by the caller; avoid an unhandled rejection meanwhile
  if (!child.stdout) throw new Error('dump tool started without a stdout pipe');
  return {
    child,
    stdout: child.stdout,
    done,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
  };
}

/**
 * A dump handle whose process starts after an asynchronous preparation
 * (version detection, a defaults file): the stdout is available at once.
 */
export function deferredDump(
  prepare: () => Promise<{ handle: DumpHandle; cleanup?: () => Promise<void> }>,
): DumpHandle {
  const stdout = new PassThrough();
  let handle: DumpHandle | undefined;
  let killed: NodeJS.Signals | undefined;
  const done = (async () => {
    let cleanup: (() => Promise<void>) | undefined;
    try {
      const prepared = await prepare();
      handle = prepared.handle;
      cleanup = prepared.cleanup;
      if (killed) handle.kill(killed);
      const [piped, exited] = await Promise.allSettled([
        pipeline(handle.stdout, stdout),
        handle.done,
      ]);
      // The tool's own failure is the better message; report it first.
      if (exited.status === 'rejected') throw exited.reason;
      if (piped.status === 'rejected') throw piped.reason;
    } catch (err) {
      stdout.destroy(err as Error);
      throw err;
    } finally {
      await cleanup?.();
    }
  })();
  done.catch(() => undefined);
  return {
    stdout,
    done,
    kill: (signal = 'SIGTERM') => {
      killed = signal;
      handle?.kill(signal);
    },
  };
}

/**
 * Runs a tool to its end, feeding `input` (or nothing) to stdin; returns stdout.
 *
 * A stream `input` is fed with `feed` (below), not `pipeline()`: when the
 * tool fails, the rejection is the tool's own message (exit status and
 * stderr, e.g. psql's `relation "customers" already exists`) and `input` is
 * left to its owner, who learns the reason from here instead of from a
 * `write EPIPE` on its own side.
 */
export async function runTool(
  cmd: ToolCommand,
  ctx: EngineContext,
  input?: Readable | string,
  options: RunOptions = {},
): Promise<string> {
  const spawn = ctx.spawn ?? defaultSpawn;
  const tool = toolName(cmd, options);
  const child = spawn(cmd.file, cmd.args, { env: toolEnv(cmd.env), signal: ctx.signal });
  quietStdin(child);
  const done = completion(child, tool, options);
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => chunks.push(c));
  let fed: Promise<void>;
  if (input === undefined || typeof input === 'string') {
    child.stdin?.end(input ?? '');
    fed = Promise.resolve();
  } else {
    fed = feed(input, child, done);
  }
  const [f, finished] = await Promise.allSettled([fed, done]);
  // A failed input killed the tool: the input's error is the cause.
  if (f.status === 'rejected') throw f.reason;
  if (finished.status === 'rejected') throw finished.reason;
  if (typeof input === 'object' && !input.readableEnded)
    throw new OperationError(`${tool} exited before reading all of its input`);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Pipes `input` into the tool's stdin, with two differences from `pipeline()`:
 * - a tool that exits (it failed, or stopped reading) does not destroy
 *   `input`: it is unpiped and left to its owner;
 * - an `input` that fails or closes before its end kills the tool (SIGTERM)
 *   and keeps its stdin open until it is gone: a restore tool that saw
 *   end-of-file would take a truncated input for the whole (psql would
 *   COMMIT what it got).
 * Resolves when the tool exited with `input` read to its end or left
 * unread; rejects only with the input's own failure.
 */
function feed(input: Readable, child: ChildProcess, exited: Promise<void>): Promise<void> {
  const stdin = child.stdin;
  if (!stdin) return Promise.reject(new Error('restore tool started without a stdin pipe'));
  return new Promise<void>((resolve, reject) => {
    const stop = finished(input, { writable: false }, (err) => {
      if (!err) return; // ended: pipe() ends stdin, the tool sees end-of-file
      input.unpipe(stdin);
      child.kill('SIGTERM');
      reject(err);
    });
    const settle = () => {
      stop();
      input.unpipe(stdin);
      resolve();
    };
    exited.then(settle, settle);
    input.pipe(stdin);
  });
}

/** How long dropping the database of a failed restore may take. */
const DROP_TIMEOUT_MS = 60_000;

/** Create, test and drop one database on the target (the engine's SQL). */
export interface DatabaseOps {
  exists(): Promise<boolean>;
  create(): Promise<unknown>;
  /** Runs under its own signal: the command's is already aborted after an interrupt. */
  drop(signal: AbortSignal): Promise<unknown>;
}

/**
 * Restores into `database`, creating it when it does not exist. If the
 * restore then fails or is interrupted, the database it created is dropped:
 * a failed restore leaves no empty or half-filled database behind. A
 * database that existed before is never dropped. `*` (a dump of all
 * databases) creates its databases itself and is run as is.
 */
export async function restoreCreating(
  database: string,
  db: DatabaseOps,
  restore: () => Promise<unknown>,
  ctx: EngineContext,
): Promise<void> {
  if (database === '*' || (await db.exists())) {
    await restore();
    return;
  }
  const dropCreated = async () => {
    try {
      await db.drop(AbortSignal.timeout(DROP_TIMEOUT_MS));
      ctx.log.info('dropped the database this restore had created', { database });
    } catch (err) {
      ctx.log.warn('could not drop the database this restore had created', {
        database,
        error: describeError(err),
      });
    }
  };
  try {
    await db.create();
  } catch (err) {
    // Interrupted while creating: it may exist now. Otherwise it was not ours to drop.
    if (ctx.signal.aborted) await dropCreated();
    throw err;
  }
  try {
    await restore();
  } catch (err) {
    await dropCreated();
    throw err;
  }
}
