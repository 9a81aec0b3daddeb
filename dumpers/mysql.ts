/**
 * MySQL and MariaDB: mysqldump / mariadb-dump with --single-transaction
 * --routines --triggers --events, --all-databases for `*`; restore with the
 * mysql / mariadb client.
 *
 * The password goes in a 0600 option file (`--defaults-file`, in a private
 * temporary directory removed afterwards): MYSQL_PWD is deprecated by MySQL.
 * One database is dumped without `--databases`, so the dump carries no
 * CREATE DATABASE / USE and restores into any database name.
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { findExecutable } from './executables.js';
import {
  CONNECT_TIMEOUT,
  connectionArgs,
  explainConnectFailure,
  mysqlDumpCommand,
  mysqlRestoreCommand,
  optionFileText,
  parseClientVersion,
  quoteIdentifier,
  type Flavor,
  type MysqlClientInfo,
} from './mysql/commands.js';
import { deferredDump, restoreCreating, runTool, startDump } from './process.js';
import type { DumpTarget, Engine, EngineContext, EngineType, RestoreContext } from './types.js';

/** Tools by preference: the engine's own first, the other vendor's as a fallback. */
const TOOLS: Record<Flavor, { dump: string[]; client: string[] }> = {
  mysql: { dump: ['mysqldump', 'mariadb-dump'], client: ['mysql', 'mariadb'] },
  mariadb: { dump: ['mariadb-dump', 'mysqldump'], client: ['mariadb', 'mysql'] },
};

/** Runs `fn` with a private 0600 option file holding the password; removes it afterwards. */
async function withOptionFile<T>(target: DumpTarget, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'snapkeeper-'));
  const file = join(dir, 'client.cnf');
  try {
    await writeFile(file, optionFileText(target.password), { mode: 0o600 });
    await chmod(file, 0o600);
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function makeEngine(type: Extract<EngineType, 'mysql' | 'mariadb'>): Engine {
  const tools = TOOLS[type];
  const tool = (names: string[]) => findExecutable(names) ?? names[0]!;

  async function clientInfo(ctx: EngineContext): Promise<MysqlClientInfo> {
    const file = tool(tools.dump);
    const out = await runTool({ file, args: ['--version'], env: {} }, ctx);
    return parseClientVersion(file, out);
  }

  async function query(target: DumpTarget, sql: string, ctx: EngineContext): Promise<string> {
    return withOptionFile(target, (defaults) =>
      runTool(
        {
          file: tool(tools.client),
          args: [
            ...connectionArgs(target, defaults),
            CONNECT_TIMEOUT,
            '--batch',
            '--skip-column-names',
          ],
          env: {},
        },
        ctx,
        sql,
      ),
    ).catch((err: unknown) => {
      throw explainConnectFailure(err, target);
    });
  }

  async function schemaExists(target: DumpTarget, database: string, ctx: EngineContext) {
    const hex = Buffer.from(database, 'utf8').toString('hex');
    const sql =
      'SELECT COUNT(*) FROM information_schema.SCHEMATA ' +
      `WHERE SCHEMA_NAME = CONVERT(X'${hex}' USING utf8mb4);\n`;
    return (await query(target, sql, ctx)).trim() !== '0';
  }

  const engine: Engine = {
    type,
    defaultPort: 3306,
    output: () => ({ format: 'sql', extension: 'sql' }),

    async serverVersion(target, ctx) {
      return (await query(target, 'SELECT VERSION();\n', ctx)).trim();
    },

    async client(_target, ctx) {
      const info = await clientInfo(ctx);
      return { tool: info.file.split('/').pop()!, version: `${info.version} (${info.vendor})` };
    },

    async sizeEstimate(target, database, ctx) {
      const where =
        database === '*'
          ? "TABLE_SCHEMA NOT IN ('information_schema', 'performance_schema', 'sys')"
          : `TABLE_SCHEMA = CONVERT(X'${Buffer.from(database, 'utf8').toString('hex')}' USING utf8mb4)`;
      const sql = `SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) FROM information_schema.TABLES WHERE ${where};\n`;
      return Number((await query(target, sql, ctx)).trim());
    },

    dump(target, database, ctx) {
      return deferredDump(async () => {
        const info = await clientInfo(ctx);
        const server =
          info.vendor === 'mysql' ? await engine.serverVersion(target, ctx) : 'not needed';
        const dir = await mkdtemp(join(tmpdir(), 'snapkeeper-'));
        const defaults = join(dir, 'client.cnf');
        const cleanup = () => rm(dir, { recursive: true, force: true });
        try {
          await writeFile(defaults, optionFileText(target.password), { mode: 0o600 });
          const cmd = mysqlDumpCommand(target, database, info, server, defaults);
          ctx.log.debug('starting dump tool', { tool: cmd.file, args: cmd.args });
          return {
            handle: startDump(cmd, ctx, {
              outputBuffer: true,
              stderrFailure: /^(mysqldump|mariadb-dump): (Got error|Error|Couldn't)/m,
            }),
            cleanup,
          };
        } catch (err) {
          await cleanup();
          throw err;
        }
      });
    },

    async restoreConflicts(target, database, ctx) {
      if (database === '*') return { count: 0, names: [] };
      // Tables and views, then routines and events: what a dump would replace
      // (it drops each before creating it: DROP TABLE IF EXISTS …).
      const db = `CONVERT(X'${Buffer.from(database, 'utf8').toString('hex')}' USING utf8mb4)`;
      const sql =
        `SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${db})` +
        ` + (SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ${db})` +
        ` + (SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ${db});\n` +
        `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${db}` +
        ` ORDER BY TABLE_TYPE = 'VIEW', TABLE_NAME LIMIT 6;\n` +
        `SELECT ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ${db}` +
        ` ORDER BY ROUTINE_NAME LIMIT 6;\n`;
      const [count, ...names] = (await query(target, sql, ctx)).split('\n').filter(Boolean);
      return { count: Number(count ?? 0), names: names.slice(0, 6) };
    },

    // No transaction holds DDL here: only a database the restore creates
    // (and drops on failure) is left as it was.
    async restoreIsAtomic(target, database, ctx) {
      return database !== '*' && !(await schemaExists(target, database, ctx));
    },

    async restore(target: DumpTarget, database: string, input: Readable, ctx: RestoreContext) {
      const name = quoteIdentifier(database);
      await restoreCreating(
        database,
        {
          exists: () => schemaExists(target, database, ctx),
          create: () => query(target, `CREATE DATABASE ${name};\n`, ctx),
          drop: (signal) => query(target, `DROP DATABASE IF EXISTS ${name};\n`, { ...ctx, signal }),
        },
        () =>
          withOptionFile(target, (defaults) =>
            runTool(
              mysqlRestoreCommand(target, database, tool(tools.client), defaults),
              ctx,
              input,
            ),
          ),
        ctx,
      );
    },
  };
  return engine;
}

/**
 * Runs SQL in `database` ('' for none) with the engine's client, batch mode
 * without column names: one line per row, tab-separated.
 */
export function mysqlQuery(
  type: Extract<EngineType, 'mysql' | 'mariadb'>,
  target: DumpTarget,
  database: string,
  sql: string,
  ctx: EngineContext,
): Promise<string> {
  const file = findExecutable(TOOLS[type].client) ?? TOOLS[type].client[0]!;
  return withOptionFile(target, (defaults) =>
    runTool(
      {
        file,
        args: [
          ...connectionArgs(target, defaults),
          '--batch',
          '--skip-column-names',
          '--default-character-set=utf8mb4',
          ...(database ? [database] : []),
        ],
        env: {},
      },
      ctx,
      sql,
    ),
  );
}

export const mysql = makeEngine('mysql');
export const mariadb = makeEngine('mariadb');
