/**
 * The process plumbing of a scratch server (./scratch.ts): the account it
 * runs as (ourselves, or as root the package's system user), its private
 * temporary directory, starting it in its own process group with its output
 * in a log, running its one-shot setup tools, waiting until a probe
 * answers, and stopping it (signal, then SIGKILL after a grace period) and
 * removing the directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OperationError, describeError } from '../errors.js';

export const SCRATCH_PREFIX = 'snapkeeper-restore-test-';
const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 15_000;

export interface Account {
  uid: number;
  gid: number;
  name: string;
}

/** The account the server runs as: ourselves, or as root the package's system user. */
export function serverAccount(systemUser: string): Account | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {
    // no passwd file: run as ourselves
  }
  const line = passwd.split('\n').find((l) => l.startsWith(`${systemUser}:`));
  if (!line)
    throw new OperationError(
      `running as root, and there is no "${systemUser}" account to run the scratch server as`,
    );
  const [name, , uid, gid] = line.split(':');
  return { name: name!, uid: Number(uid), gid: Number(gid) };
}

export interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

export function startProcess(file: string, args: string[], log: string, as?: Account): Proc {
  const out = createWriteStream(log, { flags: 'a' });
  const child = spawn(file, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
    // Its own process group: a terminal's Ctrl-C reaches us, and we stop it in order.
    detached: true,
    ...(as ? { uid: as.uid, gid: as.gid } : {}),
  });
  child.stdout?.pipe(out, { end: false });
  child.stderr?.pipe(out, { end: false });
  const proc: Proc = {
    child,
    exit: undefined,
    exited: new Promise<void>((resolve) => {
      child.once('error', (err) => {
        out.write(`\n${file}: ${err.message}\n`);
        proc.exit = { code: null, signal: null };
        resolve();
      });
      child.once('exit', (code, signal) => {
        proc.exit = { code, signal };
        resolve();
      });
    }),
  };
  void proc.exited.then(() => out.end());
  return proc;
}

export async function runOnce(
  file: string,
  args: string[],
  log: string,
  as?: Account,
  cwd?: string,
) {
  const out = createWriteStream(log, { flags: 'a' });
  const child = spawn(file, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' },
    ...(as ? { uid: as.uid, gid: as.gid } : {}),
  });
  child.stdout.pipe(out, { end: false });
  child.stderr.pipe(out, { end: false });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  }).finally(() => out.end());
  if (code !== 0)
    throw new OperationError(`${file.split('/').pop()} exited ${code}: ${await logTail(log)}`);
}

async function logTail(log: string): Promise<string> {
  const text = await readFile(log, 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-5).join(' | ') || '(no output)';
}

/** Stops `proc` (signal, then SIGKILL after a grace period) and removes `dir`. */
export function stopper(dir: string, proc: () => Proc | undefined, signal: NodeJS.Signals) {
  let stopping: Promise<void> | undefined;
  return () =>
    (stopping ??= (async () => {
      const p = proc();
      if (p && !p.exit) {
        p.child.kill(signal);
        const timer = setTimeout(() => p.child.kill('SIGKILL'), STOP_GRACE_MS);
        await p.exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    })());
}

export async function waitReady(
  proc: Proc,
  log: string,
  probe: () => Promise<unknown>,
  what: string,
  signal: AbortSignal,
) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    signal.throwIfAborted();
    if (proc.exit)
      throw new OperationError(
        `the scratch ${what} exited (code ${proc.exit.code}, signal ${proc.exit.signal}): ${await logTail(log)}`,
      );
    try {
      await probe();
      return;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new OperationError(
    `the scratch ${what} did not come up in ${READY_TIMEOUT_MS / 1000} s: ${describeError(last)}`,
  );
}

export async function makeDir(as?: Account): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), SCRATCH_PREFIX));
  if (as) await chown(dir, as.uid, as.gid);
  return dir;
}
