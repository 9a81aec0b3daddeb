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
import { join } from 'node:path';
import { mysqlQuery } from '../../dumpers/mysql.js';
import { pgBinDirs, psqlQuery } from '../../dumpers/postgresql.js';
import { findExecutable } from '../../dumpers/executables.js';
import { runTool } from '../../dumpers/process.js';
import type { DumpTarget, EngineContext } from '../../dumpers/types.js';
import { OperationError } from '../errors.js';
import type { EngineType } from '../manifest.js';
import {
  makeDir,
  runOnce,
  serverAccount,
  startProcess,
  stopper,
  waitReady,
  type Proc,
} from './scratch-process.js';

export interface ScratchServer {
  /** Where to restore: the socket (MariaDB) or its directory (PostgreSQL). */
  target: DumpTarget;
  dir: string;
  /** e.g. "PostgreSQL 15.14", "mariadbd 10.11.6-MariaDB" */
  description: string;
  /** Stops the server and removes its directory; safe to call twice. */
  stop(): Promise<void>;
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
