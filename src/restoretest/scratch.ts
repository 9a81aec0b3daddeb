/**
 * A scratch database server for `restore-test`: started in a new temporary
 * directory, reachable only through a Unix socket in it (no TCP listener),
 * and stopped — the directory removed with everything in it — whatever
 * happened. PostgreSQL: initdb + postgres with `listen_addresses=''`;
 * MariaDB / MySQL: mariadb-install-db + mariadbd with --skip-networking.
 *
 * Durability is off (fsync, doublewrite): the data lives for one test.
 * As root (a workstation's sudo), the server runs as the system account
 * the packages made (postgres, mysql): PostgreSQL refuses root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, readFileSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { mysqlQuery } from '../../dumpers/mysql.js';
import { pgBinDirs, psqlQuery } from '../../dumpers/postgresql.js';
import { findExecutable } from '../../dumpers/executables.js';
import { runTool } from '../../dumpers/process.js';
import type { DumpTarget, EngineContext } from '../../dumpers/types.js';
import { OperationError, describeError } from '../errors.js';
import type { EngineType } from '../manifest.js';

export const SCRATCH_PREFIX = 'snapkeeper-restore-test-';
const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 15_000;

export interface ScratchServer {
  /** Where to restore: the socket (MariaDB) or its directory (PostgreSQL). */
  target: DumpTarget;
  dir: string;
  /** e.g. "PostgreSQL 15.14", "mariadbd 10.11.6-MariaDB" */
  description: string;
  /** Stops the server and removes its directory; safe to call twice. */
  stop(): Promise<void>;
}

interface Account {
  uid: number;
  gid: number;
  name: string;
}

/** The account the server runs as: ourselves, or as root the package's system user. */
function serverAccount(systemUser: string): Account | undefined {
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

interface Proc {
  child: ChildProcess;
  exited: Promise<void>;
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

function startProcess(file: string, args: string[], log: string, as?: Account): Proc {
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

async function runOnce(file: string, args: string[], log: string, as?: Account, cwd?: string) {
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
function stopper(dir: string, proc: () => Proc | undefined, signal: NodeJS.Signals) {
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

async function waitReady(
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

async function makeDir(as?: Account): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), SCRATCH_PREFIX));
  if (as) await chown(dir, as.uid, as.gid);
  return dir;
}

/** Starts a scratch server for `engine`; the caller must `stop()` it. */
export async function startScratchServer(
  engine: EngineType,
  ctx: EngineContext,
): Promise<ScratchServer> {
  if (engine === 'postgresql') return startPostgres(ctx);
  if (engine === 'mysql' || engine === 'mariadb') return startMariadb(engine, ctx);
  throw new OperationError(`no scratch server for ${engine}`);
}

async function startPostgres(ctx: EngineContext): Promise<ScratchServer> {
  const dirs = pgBinDirs();
  const initdb = findExecutable(['initdb'], dirs);
  const postgres = findExecutable(['postgres'], dirs);
  if (!initdb || !postgres)
    throw new OperationError(
      `the PostgreSQL server binaries (initdb, postgres) are not installed (looked in ${dirs.join(', ') || 'PATH'})`,
    );
  const as = serverAccount('postgres');
  const dir = await makeDir(as);
  let proc: Proc | undefined;
  const stop = stopper(dir, () => proc, 'SIGINT'); // SIGINT: PostgreSQL's fast shutdown
  try {
    const log = join(dir, 'server.log');
    const data = join(dir, 'data');
    ctx.log.info('starting a scratch PostgreSQL server', { dir });
    await runOnce(
      initdb,
      [
        '-D',
        data,
        '-U',
        'snapkeeper',
        '--auth=trust',
        '--encoding=UTF8',
        '--locale=C.UTF-8',
        '--no-sync',
      ],
      log,
      as,
    );
    proc = startProcess(
      postgres,
      [
        '-D',
        data,
        '-k',
        dir,
        '-c',
        'listen_addresses=',
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
      ],
      log,
      as,
    );
    const target: DumpTarget = {
      host: dir,
      port: 5432,
      username: 'snapkeeper',
      databases: '*',
      extraArgs: [],
    };
    let version = '';
    await waitReady(
      proc,
      log,
      async () => {
        version = (
          await runTool(psqlQuery(target, 'postgres'), ctx, 'SHOW server_version;\n', {
            tool: 'psql',
          })
        ).trim();
      },
      'PostgreSQL server',
      ctx.signal,
    );
    return { target, dir, description: `PostgreSQL ${version}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function startMariadb(type: 'mysql' | 'mariadb', ctx: EngineContext): Promise<ScratchServer> {
  const sbin = ['/usr/sbin', '/usr/libexec', '/usr/local/sbin', '/usr/local/mysql/bin'];
  const install = findExecutable(['mariadb-install-db', 'mysql_install_db'], sbin);
  const server = findExecutable(['mariadbd', 'mysqld'], sbin);
  if (!install || !server)
    throw new OperationError(
      'the MariaDB server binaries (mariadb-install-db, mariadbd) are not installed',
    );
  const as = serverAccount('mysql');
  const dir = await makeDir(as);
  let proc: Proc | undefined;
  const stop = stopper(dir, () => proc, 'SIGTERM');
  try {
    const log = join(dir, 'server.log');
    const data = join(dir, 'data');
    const socket = join(dir, 'mysqld.sock');
    ctx.log.info('starting a scratch MariaDB server', { dir });
    const user = as ? [`--user=${as.name}`] : [];
    await runOnce(
      install,
      [
        '--no-defaults',
        `--datadir=${data}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        ...user,
      ],
      log,
      as,
      dir,
    );
    proc = startProcess(
      server,
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--socket=${socket}`,
        `--pid-file=${join(dir, 'mariadbd.pid')}`,
        '--skip-networking',
        '--skip-log-bin',
        '--innodb-flush-log-at-trx-commit=0',
        '--innodb-doublewrite=0',
        ...user,
      ],
      log,
      as,
    );
    const target: DumpTarget = {
      host: socket,
      port: 0,
      username: 'root',
      databases: '*',
      extraArgs: [],
    };
    let version = '';
    await waitReady(
      proc,
      log,
      async () => {
        version = (await mysqlQuery(type, target, '', 'SELECT VERSION();\n', ctx)).trim();
      },
      'MariaDB server',
      ctx.signal,
    );
    return { target, dir, description: `mariadbd ${version}`, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
