/**
 * Running dump and restore tools: spawn without a shell, a minimal
 * environment (the tool gets its own variables, not the dumper's AWS
 * credentials), stderr kept as a bounded tail for the error message.
 */
import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DumpFailedError, OperationError } from '../src/errors.js';
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
  options: RunOptions = {},
): DumpHandle & { child: ChildProcess } {
  const spawn = ctx.spawn ?? defaultSpawn;
  const child = spawn(cmd.file, cmd.args, { env: toolEnv(cmd.env), signal: ctx.signal });
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

/** Runs a tool to its end, feeding `input` (or nothing) to stdin; returns stdout. */
export async function runTool(
  cmd: ToolCommand,
  ctx: EngineContext,
  input?: Readable | string,
  options: RunOptions = {},
): Promise<string> {
  const spawn = ctx.spawn ?? defaultSpawn;
  const child = spawn(cmd.file, cmd.args, { env: toolEnv(cmd.env), signal: ctx.signal });
  quietStdin(child);
  const done = completion(child, toolName(cmd, options), options);
  const chunks: Buffer[] = [];
  child.stdout?.on('data', (c: Buffer) => chunks.push(c));
  const feeding =
    input === undefined || typeof input === 'string'
      ? (child.stdin?.end(input ?? ''), Promise.resolve())
      : pipeline(input, child.stdin!);
  const [fed, finished] = await Promise.allSettled([feeding, done]);
  if (finished.status === 'rejected') throw finished.reason;
  if (fed.status === 'rejected') throw fed.reason;
  return Buffer.concat(chunks).toString('utf8');
}

/** The first executable named `names` in `dirs` (then PATH); undefined if none. */
export function findExecutable(
  names: readonly string[],
  dirs: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const all = [...dirs, ...(env.PATH ?? '').split(delimiter).filter(Boolean)];
  for (const name of names) {
    for (const d of all) {
      const file = join(d, name);
      try {
        accessSync(file, constants.X_OK);
        return file;
      } catch {
        // next
      }
    }
  }
  return undefined;
}
