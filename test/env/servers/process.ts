// What every test server shares: a private temporary directory, a free port on
// 127.0.0.1, a child process whose output goes to a log file, a readiness wait
// that fails early (with the log's tail) when the process dies, and a stop
// that escalates from SIGTERM to SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Keep data dirs and logs after stop (for debugging a failed run). */
const keep = process.env.SNAPKEEPER_TESTENV_KEEP === '1';

export interface Account {
  uid: number;
  gid: number;
  name: string;
  home: string;
}

/**
 * The account a database server runs as. PostgreSQL refuses to run as root,
 * so as root we run servers as the system user the Debian package created
 * (postgres, mysql); as anyone else, as ourselves.
 */
export function serverAccount(systemUser: string): Account | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${systemUser}:`));
  if (!line)
    throw new Error(
      `running as root, but there is no system user "${systemUser}" to run the server as`,
    );
  const [name, , uid, gid, , home] = line.split(':');
  return { name: name!, uid: Number(uid), gid: Number(gid), home: home || '/' };
}

export async function makeTempDir(prefix: string, owner?: Account): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), `snapkeeper-${prefix}-`));
  if (owner) await chown(dir, owner.uid, owner.gid);
  return dir;
}

/**
 * A directory for the tests' own temporary files (helpers.scratchDir), made
 * by a global setup and removed at its teardown: test workers may be killed
 * rather than exit, so they cannot be trusted to clean up themselves.
 */
export async function startScratch(): Promise<{ dir: string; stop(): Promise<void> }> {
  const dir = await makeTempDir('test');
  return { dir, stop: () => removeDir(dir) };
}

export async function removeDir(dir: string): Promise<void> {
  if (keep) {
    console.error(`[testenv] kept ${dir}`);
    return;
  }
  await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** A port that was free a moment ago (the kernel's pick for port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

export function tail(file: string, lines = 40): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Where a database server of the suites listens, and its superuser. */
export interface DatabaseServerInfo {
  host: string;
  port: number;
  user: string;
  password: string;
  /** the server's client tools (psql, pg_dump … / mariadb, mariadb-dump …) */
  binDir: string;
  /** e.g. "15.14", "10.11.19-MariaDB-0+deb12u1" */
  version: string;
}

export interface ServerProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly logFile: string;
  /** Set once the process has exited. */
  exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** An Error carrying the log's tail. */
  failure(message: string): Error;
}

export interface SpawnServerOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  as?: Account | undefined;
}

// Servers still running when this process exits without a teardown (a crash
// in a global setup, an uncaught error) are killed rather than left behind.
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

// A run killed with SIGKILL (a CI timeout, the OOM killer) runs no exit
// handler: the kernel ends its servers instead, by the parent-death signal
// that util-linux's setpriv sets before it execs the server (same pid).
const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((p) => existsSync(p));
function orphanSafe(command: string, args: string[]): [string, string[]] {
  return SETPRIV ? [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]] : [command, args];
}

/** Starts a long-running server; its stdout and stderr go to logFile. */
export function spawnServer(
  name: string,
  command: string,
  args: string[],
  logFile: string,
  opts: SpawnServerOptions = {},
): ServerProcess {
  const log = createWriteStream(logFile, { flags: 'a' });
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  if (opts.as) {
    env.HOME = opts.as.home;
    env.USER = opts.as.name;
    env.LOGNAME = opts.as.name;
  }
  const child = spawn(...orphanSafe(command, args), {
    env,
    cwd: opts.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(opts.as ? { uid: opts.as.uid, gid: opts.as.gid } : {}),
  });
  running.add(child);
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  const exitedP = new Promise<void>((resolveExit) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      proc.exited = { code, signal };
      resolveExit();
    });
    child.on('error', (err) => {
      running.delete(child);
      log.write(`\n[testenv] spawn ${command}: ${err.message}\n`);
      proc.exited = { code: null, signal: null };
      resolveExit();
    });
  });
  const proc: ServerProcess = {
    name,
    child,
    logFile,
    exited: undefined,
    async stop(graceMs = 10_000) {
      if (!proc.exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exitedP;
        clearTimeout(timer);
      }
      await new Promise<void>((r) => log.end(r));
    },
    failure(message: string) {
      // The log stream may still hold buffered output.
      const status = proc.exited
        ? ` (exited: code ${proc.exited.code}, signal ${proc.exited.signal})`
        : '';
      return new Error(`${name}: ${message}${status}\n--- ${logFile} (tail) ---\n${tail(logFile)}`);
    },
  };
  return proc;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` until it returns true (or a value other than false). Fails at
 * once if the process exits, and after timeoutMs with the last probe error;
 * both failures carry the server's log tail.
 */
export async function waitUntil(
  proc: ServerProcess,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    if (proc.exited) {
      await sleep(100); // let the log stream flush
      throw proc.failure(`exited while waiting for ${what}`);
    }
    try {
      if (await probe()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? `: ${last.message}` : '';
      throw proc.failure(`not ready after ${timeoutMs / 1000}s waiting for ${what}${why}`);
    }
    await sleep(200);
  }
}

/**
 * Runs `start`; if it throws, runs every cleanup registered so far (newest
 * first) before rethrowing. The returned stop runs them all.
 */
export async function withCleanup<T>(
  start: (onStop: (fn: () => Promise<void> | void) => void) => Promise<T>,
): Promise<T & { stop(): Promise<void> }> {
  const cleanups: (() => Promise<void> | void)[] = [];
  const stop = async () => {
    const errors: unknown[] = [];
    while (cleanups.length) {
      const fn = cleanups.pop()!;
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length) throw new AggregateError(errors, 'stopping test servers');
  };
  try {
    const info = await start((fn) => cleanups.push(fn));
    return { ...info, stop };
  } catch (err) {
    await stop().catch(() => {});
    throw err;
  }
}
