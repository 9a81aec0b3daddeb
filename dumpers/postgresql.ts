/**
 * PostgreSQL: pg_dump (plain SQL unless the options ask for `--format=custom`),
 * pg_dumpall for all databases; restore with psql (ON_ERROR_STOP) or
 * pg_restore. The password travels in PGPASSWORD only; the database name in
 * PGDATABASE, so a name containing `=` is never read as a connection string.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { UserError } from '../src/errors.js';
import { findExecutable } from './executables.js';
import { deferredDump, restoreCreating, runTool, startDump } from './process.js';
import type {
  DumpOutput,
  DumpTarget,
  Engine,
  EngineContext,
  RestoreContext,
  ToolCommand,
} from './types.js';

export const PG_APPLICATION_NAME = 'snapkeeper';
/** libpq's connect_timeout: a wrong host or port fails within it. */
const CONNECT_TIMEOUT_SECONDS = '10';

/** Where the PostgreSQL client binaries are: an override, a major version, or the newest installed. */
export function pgBinDirs(
  clientVersion?: string,
  env: NodeJS.ProcessEnv = process.env,
  root = '/usr/lib/postgresql',
): string[] {
  const dirs: string[] = [];
  if (env.SNAPKEEPER_PG_BINDIR) dirs.push(env.SNAPKEEPER_PG_BINDIR);
  if (existsSync(root)) {
    const majors = readdirSync(root)
      .filter((m) => /^\d+$/.test(m))
      .sort((a, b) => Number(b) - Number(a));
    const wanted = clientVersion?.split('.')[0];
    const chosen = wanted ? majors.filter((m) => m === wanted) : majors;
    if (wanted && chosen.length === 0) {
      throw new UserError(
        `PostgreSQL client version ${clientVersion} is not installed (have: ${majors.join(', ') || 'none'})`,
      );
    }
    dirs.push(...chosen.map((m) => join(root, m, 'bin')));
  }
  return dirs;
}

function pgTool(name: string, clientVersion?: string): string {
  return findExecutable([name], pgBinDirs(clientVersion)) ?? name;
}

/** `--format` / `-F` in extra args: `p`lain, `c`ustom, `t`ar or `d`irectory. */
export function pgFormatOf(extraArgs: readonly string[]): 'plain' | 'custom' | 'tar' | 'directory' {
  let f = 'p';
  for (let i = 0; i < extraArgs.length; i++) {
    const a = extraArgs[i]!;
    let v: string | undefined;
    if (a === '-F' || a === '--format') v = extraArgs[i + 1];
    else if (a.startsWith('--format=')) v = a.slice('--format='.length);
    else if (a.startsWith('-F')) v = a.slice(2);
    if (v) f = v.toLowerCase()[0] ?? 'p';
  }
  switch (f) {
    case 'c':
      return 'custom';
    case 't':
      return 'tar';
    case 'd':
      return 'directory';
    default:
      return 'plain';
  }
}

function connectionEnv(target: DumpTarget, database: string): Record<string, string> {
  const env: Record<string, string> = {
    PGDATABASE: database,
    PGAPPNAME: PG_APPLICATION_NAME,
    PGCONNECT_TIMEOUT: CONNECT_TIMEOUT_SECONDS,
  };
  if (target.password !== undefined) env.PGPASSWORD = target.password;
  return env;
}

function connectionArgs(target: DumpTarget): string[] {
  const args = ['--host', target.host, '--port', String(target.port), '--no-password'];
  if (target.username) args.push('--username', target.username);
  return args;
}

/**
 * Options of pg_dump / pg_dumpall that snapkeeper sets itself (output,
 * connection, identity): the `dump-options` annotation may not set them,
 * or it would send the dump elsewhere or put a password into the CronJob.
 */
export const POSTGRESQL_RESERVED_OPTIONS = [
  '-f',
  '--file',
  '-h',
  '--host',
  '-p',
  '--port',
  '-U',
  '--username',
  '-W',
  '--password',
  '-d',
  '--dbname',
] as const;

/** The dump command (pure): pg_dump for one database, pg_dumpall for `*`. */
export function pgDumpCommand(target: DumpTarget, database: string, bin = pgTool): ToolCommand {
  if (database === '*') {
    return {
      file: bin('pg_dumpall', target.clientVersion),
      args: [...connectionArgs(target), ...target.extraArgs],
      env: connectionEnv(target, 'postgres'),
    };
  }
  return {
    file: bin('pg_dump', target.clientVersion),
    args: [...connectionArgs(target), ...target.extraArgs],
    env: connectionEnv(target, database),
  };
}

/** The restore command (pure): psql for SQL, pg_restore for custom/tar archives. */
export function pgRestoreCommand(
  target: DumpTarget,
  database: string,
  format: string,
  bin = pgTool,
): ToolCommand {
  if (format === 'custom' || format === 'tar') {
    return {
      file: bin('pg_restore', target.clientVersion),
      // One transaction, like psql's below: a failed or interrupted restore leaves nothing.
      args: [
        ...connectionArgs(target),
        '--exit-on-error',
        '--single-transaction',
        '--dbname',
        database,
      ],
      env: connectionEnv(target, database),
    };
  }
  const args = [...connectionArgs(target), '-X', '-q', '-v', 'ON_ERROR_STOP=1'];
  // One database's dump restores all-or-nothing; pg_dumpall's CREATE DATABASE cannot run in a transaction.
  if (database !== '*') args.push('--single-transaction');
  return {
    file: bin('psql', target.clientVersion),
    args,
    env: connectionEnv(target, database === '*' ? 'postgres' : database),
  };
}

export function psqlQuery(
  target: DumpTarget,
  database: string,
  vars: Record<string, string> = {},
): ToolCommand {
  const args = [...connectionArgs(target), '-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1'];
  for (const [k, v] of Object.entries(vars)) args.push('-v', `${k}=${v}`);
  return { file: pgTool('psql', target.clientVersion), args, env: connectionEnv(target, database) };
}

function firstDatabase(target: DumpTarget): string {
  return target.databases === '*' ? 'postgres' : (target.databases[0] ?? 'postgres');
}

export const postgresql: Engine = {
  type: 'postgresql',
  defaultPort: 5432,

  output(target: DumpTarget): DumpOutput {
    const f = pgFormatOf(target.extraArgs);
    if (f === 'directory') {
      throw new UserError(
        'pg_dump --format=directory cannot be streamed; use plain, custom or tar',
      );
    }
    if (f === 'plain') return { format: 'sql', extension: 'sql' };
    return { format: f, extension: f === 'custom' ? 'dump' : 'tar' };
  },

  async serverVersion(target, ctx) {
    const out = await runTool(
      psqlQuery(target, firstDatabase(target)),
      ctx,
      'SHOW server_version;\n',
      {
        tool: 'psql',
      },
    );
    return out.trim().split(/\s/)[0] ?? out.trim();
  },

  async client(target, ctx) {
    const tool = target.databases === '*' ? 'pg_dumpall' : 'pg_dump';
    const out = await runTool(
      { file: pgTool(tool, target.clientVersion), args: ['--version'], env: {} },
      ctx,
    );
    // "pg_dump (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)"
    const version = /\)\s*(\d+(?:\.\d+)*)/.exec(out)?.[1] ?? out.trim();
    return { tool, version };
  },

  async sizeEstimate(target, database, ctx) {
    const sql =
      database === '*'
        ? 'SELECT sum(pg_database_size(datname)) FROM pg_database WHERE datallowconn AND NOT datistemplate;\n'
        : "SELECT pg_database_size(:'name');\n";
    const out = await runTool(psqlQuery(target, 'postgres', { name: database }), ctx, sql, {
      tool: 'psql',
    });
    return Number(out.trim());
  },

  dump(target, database, ctx) {
    const cmd = pgDumpCommand(target, database);
    ctx.log.debug('starting dump tool', { tool: cmd.file, args: cmd.args });
    return deferredDump(async () => ({ handle: startDump(cmd, ctx, { outputBuffer: true }) }));
  },

  async restoreConflicts(target, database, ctx) {
    if (database === '*' || !(await databaseExists(target, database, ctx)))
      return { count: 0, names: [] };
    const out = await runTool(psqlQuery(target, database), ctx, USER_RELATIONS_SQL, {
      tool: 'psql',
    });
    const rows = out.split('\n').filter(Boolean);
    return {
      count: Number(rows[0]?.split('|')[1] ?? 0),
      names: rows.map((r) => r.slice(0, r.lastIndexOf('|'))),
    };
  },

  // psql --single-transaction / pg_restore --single-transaction; pg_dumpall's
  // CREATE DATABASE / CREATE ROLE cannot run in one.
  async restoreIsAtomic(_target, database) {
    return database !== '*';
  },

  async restore(target: DumpTarget, database: string, input: Readable, ctx: RestoreContext) {
    await restoreCreating(
      database,
      {
        exists: () => databaseExists(target, database, ctx),
        create: () =>
          runTool(psqlQuery(target, 'postgres', { name: database }), ctx, CREATE_SQL, {
            tool: 'psql',
          }),
        drop: (signal) =>
          runTool(psqlQuery(target, 'postgres', { name: database }), { ...ctx, signal }, DROP_SQL, {
            tool: 'psql',
          }),
      },
      () => runTool(pgRestoreCommand(target, database, ctx.format ?? 'sql'), ctx, input),
      ctx,
    );
  },
};

/**
 * Tables, views, sequences … of the database outside the system schemas
 * (and not an extension's): `schema.name|total`, tables first, at most six.
 */
const USER_RELATIONS_SQL = `SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), count(*) OVER ()
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY c.relkind NOT IN ('r', 'p'), 1 LIMIT 6;
`;

/** psql variables quote the name; nothing is spliced into SQL. */
const CREATE_SQL = "SELECT format('CREATE DATABASE %I', :'name') \\gexec\n";

/** WITH (FORCE) (PostgreSQL 13+) ends the session of a killed psql whose server side has not noticed yet. */
const DROP_SQL =
  "SELECT format(CASE WHEN current_setting('server_version_num')::int >= 130000 " +
  "THEN 'DROP DATABASE IF EXISTS %I WITH (FORCE)' ELSE 'DROP DATABASE IF EXISTS %I' END, :'name') \\gexec\n";

async function databaseExists(target: DumpTarget, database: string, ctx: EngineContext) {
  const sql = "SELECT count(*) FROM pg_database WHERE datname = :'name';\n";
  const out = await runTool(psqlQuery(target, 'postgres', { name: database }), ctx, sql, {
    tool: 'psql',
  });
  return out.trim() !== '0';
}
