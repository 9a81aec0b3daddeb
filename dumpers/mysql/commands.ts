/**
 * mysqldump / mariadb-dump and the mysql / mariadb client as data: which
 * client `--version` describes, the connection arguments (the password
 * only in a `--defaults-file`), the dump and restore commands, the options
 * the `dump-options` annotation may not set, and the client's connect
 * failures in words. Pure: no process is run here (that is ../mysql.ts).
 */
import { DumpFailedError, OperationError } from '../../src/errors.js';
import type { DumpTarget, ToolCommand } from '../types.js';

export type Flavor = 'mysql' | 'mariadb';

/** What the dump tool's `--version` says about itself. */
export interface MysqlClientInfo {
  file: string;
  /** Oracle's client, or MariaDB's. */
  vendor: Flavor;
  version: string;
}
/** Parses `mysqldump --version` of either vendor. */
export function parseClientVersion(file: string, out: string): MysqlClientInfo {
  if (/MariaDB/i.test(out)) {
    // "mariadb-dump from 11.8.3-MariaDB, client 10.19 for debian-linux-gnu (x86_64)"
    // "mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)"
    const v = /(\d+\.\d+\.\d+)-MariaDB/i.exec(out)?.[1] ?? out.trim();
    return { file, vendor: 'mariadb', version: v };
  }
  // Oracle: "mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)"
  const ver = /Ver\s+(\d+\.\d+(?:\.\d+)?)/.exec(out);
  return { file, vendor: 'mysql', version: ver?.[1] ?? out.trim() };
}

/**
 * An Oracle 8.x+ mysqldump asks the server for column statistics, which
 * MySQL 5.7 and MariaDB servers do not have.
 */
export function needsColumnStatisticsOff(client: MysqlClientInfo, serverVersion: string): boolean {
  if (client.vendor !== 'mysql' || Number(client.version.split('.')[0]) < 8) return false;
  if (/mariadb/i.test(serverVersion)) return true;
  const major = Number(serverVersion.split('.')[0]);
  return Number.isFinite(major) && major < 8;
}

/**
 * The client's connect timeout, which also bounds the wait for the server's
 * greeting: without it, a URL at another server's port (PostgreSQL waits for
 * the client to speak first) hangs until that server gives up, a minute
 * later. The dump tools have no such option; they only ever start after the
 * client reached the server.
 */
export const CONNECT_TIMEOUT_SECONDS = 10;
export const CONNECT_TIMEOUT = `--connect-timeout=${CONNECT_TIMEOUT_SECONDS}`;

/** The client's own failure to connect, in words: which address, and the likely mistake. */
export function explainConnectFailure(err: unknown, target: DumpTarget): unknown {
  if (!(err instanceof DumpFailedError)) return err;
  const at = `${target.host}:${target.port}`;
  if (/handshake/i.test(err.stderrTail))
    return new OperationError(
      `no MySQL or MariaDB server answered at ${at} within ${CONNECT_TIMEOUT_SECONDS} s ` +
        `(something accepted the connection but did not greet as one): is the port right? (${err.stderrTail})`,
      { cause: err },
    );
  if (/ERROR 200[23]|Can't connect/i.test(err.stderrTail))
    return new OperationError(`cannot connect to MySQL or MariaDB at ${at}: ${err.stderrTail}`, {
      cause: err,
    });
  return err;
}

/** The option file's text: the password only, quoted per the option-file syntax. */
export function optionFileText(password: string | undefined): string {
  if (password === undefined) return '[client]\n';
  const escaped = password.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
  return `[client]\npassword="${escaped}"\n`;
}

export function connectionArgs(target: DumpTarget, defaultsFile: string): string[] {
  // --defaults-file must come first, and reads nothing but that file.
  const args = target.host.startsWith('/')
    ? // A Unix socket (restore-test's scratch server, which has no TCP listener).
      [`--defaults-file=${defaultsFile}`, '--protocol=SOCKET', `--socket=${target.host}`]
    : [
        `--defaults-file=${defaultsFile}`,
        '--protocol=TCP',
        `--host=${target.host}`,
        `--port=${target.port}`,
      ];
  if (target.username) args.push(`--user=${target.username}`);
  return args;
}

/**
 * Options of mysqldump / mariadb-dump that snapkeeper sets itself (output,
 * connection, identity, the option file holding the password): the
 * `dump-options` annotation may not set them.
 */
export const MYSQL_RESERVED_OPTIONS = [
  '-r',
  '--result-file',
  '-h',
  '--host',
  '-P',
  '--port',
  '-u',
  '--user',
  '-p',
  '--password',
  '--defaults-file',
  '--defaults-extra-file',
] as const;

/** The dump command (pure). */
export function mysqlDumpCommand(
  target: DumpTarget,
  database: string,
  client: MysqlClientInfo,
  serverVersion: string,
  defaultsFile: string,
): ToolCommand {
  const args = [
    ...connectionArgs(target, defaultsFile),
    '--single-transaction',
    '--routines',
    '--triggers',
    '--events',
    '--hex-blob',
    '--default-character-set=utf8mb4',
  ];
  if (client.vendor === 'mysql') args.push('--set-gtid-purged=OFF');
  if (needsColumnStatisticsOff(client, serverVersion)) args.push('--column-statistics=0');
  args.push(...target.extraArgs);
  if (database === '*') args.push('--all-databases');
  else args.push(database);
  return { file: client.file, args, env: {} };
}

/** The restore command (pure): the client reading SQL from stdin. */
export function mysqlRestoreCommand(
  target: DumpTarget,
  database: string,
  clientFile: string,
  defaultsFile: string,
): ToolCommand {
  const args = [
    ...connectionArgs(target, defaultsFile),
    CONNECT_TIMEOUT,
    '--binary-mode',
    '--default-character-set=utf8mb4',
  ];
  if (database !== '*') args.push(database);
  return { file: clientFile, args, env: {} };
}

/** `name` as a quoted identifier. */
export function quoteIdentifier(name: string): string {
  return '`' + name.replace(/`/g, '``') + '`';
}
