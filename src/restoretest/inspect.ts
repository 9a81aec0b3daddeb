/**
 * What a restored database holds, counted the way src/contents counts a
 * dump: every table with its exact row count (count(*), not statistics) and
 * the schema objects of each kind, outside the system schemas and without
 * what extensions own. Also the user's checks (`--check "<SQL>"`).
 */
import { esGet } from '../../dumpers/elasticsearch/http.js';
import { mysqlQuery } from '../../dumpers/mysql.js';
import { psqlQuery } from '../../dumpers/postgresql.js';
import { runTool } from '../../dumpers/process.js';
import type { DumpTarget, EngineContext } from '../../dumpers/types.js';
import { renderTableName } from '../contents/sql-tokens.js';
import { emptyObjects, type DatabaseCounts, type ObjectKind } from '../contents/types.js';
import { OperationError, describeError } from '../errors.js';
import type { EngineType } from '../manifest.js';

const PG_USER_NS = `n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'`;
const pgNotExtension = (catalog: string, oid: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${catalog}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;
const pgRelations = (kinds: string) =>
  `(SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN (${kinds}) AND ${PG_USER_NS} AND ${pgNotExtension('pg_class', 'c.oid')})`;
const pgProcs = (kinds: string) =>
  `(SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE p.prokind IN (${kinds}) AND ${PG_USER_NS} AND ${pgNotExtension('pg_proc', 'p.oid')})`;

/** One JSON row: the tables with exact counts, and the objects (pg_dump's view of them). */
export const PG_INSPECT_SQL = `SELECT json_build_object(
  'tables', (SELECT coalesce(json_agg(json_build_array(n.nspname, c.relname,
      (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM ONLY %I.%I', n.nspname, c.relname), false, true, '')))[1]::text::bigint)
      ORDER BY n.nspname, c.relname), '[]')
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind = 'r' AND ${PG_USER_NS} AND ${pgNotExtension('pg_class', 'c.oid')}),
  'objects', json_build_object(
    'tables', ${pgRelations("'r', 'p'")},
    'views', ${pgRelations("'v'")},
    'materializedViews', ${pgRelations("'m'")},
    'sequences', ${pgRelations("'S'")},
    'functions', ${pgProcs("'f', 'a', 'w'")},
    'procedures', ${pgProcs("'p'")},
    'triggers', (SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT t.tgisinternal AND t.tgparentid = 0 AND ${PG_USER_NS}),
    'events', (SELECT count(*) FROM pg_event_trigger e WHERE ${pgNotExtension('pg_event_trigger', 'e.oid')}),
    'indexes', (SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${PG_USER_NS} AND ${pgNotExtension('pg_class', 'i.indrelid')})
  ));
`;

/** Per database: hex-encoded names (no escaping to undo), then the counts. */
const MY_OBJECTS_SQL = (db: string) => {
  const schema = `CONVERT(X'${Buffer.from(db, 'utf8').toString('hex')}' USING utf8mb4)`;
  return `SELECT 'tables', COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${schema} AND TABLE_TYPE = 'BASE TABLE'
UNION ALL SELECT 'views', COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${schema} AND TABLE_TYPE = 'VIEW'
UNION ALL SELECT 'sequences', COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${schema} AND TABLE_TYPE = 'SEQUENCE'
UNION ALL SELECT 'functions', COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ${schema} AND ROUTINE_TYPE = 'FUNCTION'
UNION ALL SELECT 'procedures', COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ${schema} AND ROUTINE_TYPE = 'PROCEDURE'
UNION ALL SELECT 'triggers', COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = ${schema}
UNION ALL SELECT 'events', COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ${schema}
UNION ALL SELECT 'indexes', COUNT(DISTINCT s.TABLE_NAME, s.INDEX_NAME) FROM information_schema.STATISTICS s
  JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = s.TABLE_SCHEMA AND t.TABLE_NAME = s.TABLE_NAME
  WHERE s.TABLE_SCHEMA = ${schema} AND t.TABLE_TYPE = 'BASE TABLE';
SELECT HEX(TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${schema} AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME;
`;
};

const quoteMy = (name: string) => '`' + name.replace(/`/g, '``') + '`';

/**
 * `indices`: for Elasticsearch, the indices the backup holds (a server
 * restored into is the user's, and may hold others).
 */
export async function inspectDatabase(
  engine: EngineType,
  target: DumpTarget,
  database: string,
  ctx: EngineContext,
  indices: readonly string[] = [],
): Promise<DatabaseCounts> {
  if (engine === 'elasticsearch') return inspectElasticsearch(target, database, indices, ctx);
  if (engine === 'postgresql') return inspectPostgres(target, database, ctx);
  if (engine === 'mysql' || engine === 'mariadb')
    return inspectMysql(engine, target, database, ctx);
  throw new OperationError(`cannot count the tables of a restored ${engine} database`);
}

async function inspectPostgres(
  target: DumpTarget,
  database: string,
  ctx: EngineContext,
): Promise<DatabaseCounts> {
  const out = await runTool(psqlQuery(target, database), ctx, PG_INSPECT_SQL, { tool: 'psql' });
  const parsed = JSON.parse(out) as {
    tables: [string, string, number][];
    objects: Record<ObjectKind, number>;
  };
  return {
    database,
    tables: parsed.tables.map(([schema, name, rows]) => ({
      name: renderTableName([schema, name], 'postgresql'),
      rows: Number(rows),
    })),
    objects: { ...emptyObjects('postgresql'), ...parsed.objects },
  };
}

async function inspectMysql(
  type: 'mysql' | 'mariadb',
  target: DumpTarget,
  database: string,
  ctx: EngineContext,
): Promise<DatabaseCounts> {
  const lines = (await mysqlQuery(type, target, database, MY_OBJECTS_SQL(database), ctx))
    .split('\n')
    .filter(Boolean);
  const objects = emptyObjects('mysql');
  const names: string[] = [];
  for (const line of lines) {
    const [a, b] = line.split('\t');
    if (b !== undefined && a! in objects) objects[a as ObjectKind] = Number(b);
    else if (b === undefined) names.push(Buffer.from(a!, 'hex').toString('utf8'));
  }
  const tables: DatabaseCounts['tables'] = [];
  // One query for all: the counts come back in the order asked.
  for (let i = 0; i < names.length; i += 200) {
    const batch = names.slice(i, i + 200);
    const sql = batch.map((n) => `SELECT COUNT(*) FROM ${quoteMy(n)}`).join('\nUNION ALL ') + ';\n';
    const counts = (await mysqlQuery(type, target, database, sql, ctx)).split('\n').filter(Boolean);
    batch.forEach((n, k) =>
      tables.push({ name: renderTableName([n], 'mysql'), rows: Number(counts[k]) }),
    );
  }
  return { database, tables, objects };
}

async function inspectElasticsearch(
  target: DumpTarget,
  database: string,
  indices: readonly string[],
  ctx: EngineContext,
): Promise<DatabaseCounts> {
  const tables: DatabaseCounts['tables'] = [];
  let aliases = 0;
  for (const index of indices) {
    const path = `/${encodeURIComponent(index)}`;
    await esGet(target, `${path}/_refresh`, ctx.signal);
    const count = await esGet(target, `${path}/_count`, ctx.signal);
    if (count.status === 404) continue;
    const n = (count.body as { count?: unknown }).count;
    if (count.status !== 200 || typeof n !== 'number')
      throw new OperationError(`GET ${path}/_count answered HTTP ${count.status}`);
    tables.push({ name: index, rows: n });
    const alias = await esGet(target, `${path}/_alias`, ctx.signal);
    for (const v of Object.values((alias.body ?? {}) as Record<string, { aliases?: object }>))
      aliases += Object.keys(v.aliases ?? {}).length;
  }
  return { database, tables, objects: { indexes: tables.length, aliases } };
}

/** Creates the roles that do not exist yet (NOLOGIN: they only own things). */
export async function createPgRoles(
  target: DumpTarget,
  roles: readonly string[],
  ctx: EngineContext,
): Promise<void> {
  const sql =
    "SELECT format('CREATE ROLE %I NOLOGIN', :'name') " +
    "WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'name') \\gexec\n";
  for (const name of roles) {
    await runTool(psqlQuery(target, 'postgres', { name }), ctx, sql, { tool: 'psql' });
  }
  if (roles.length > 0) ctx.log.info('created the roles the dump names', { roles });
}

/** A user check: its query's first column of the first row must be true. */
export async function runCheck(
  engine: EngineType,
  target: DumpTarget,
  database: string,
  sql: string,
  ctx: EngineContext,
): Promise<{ ok: boolean; value: string }> {
  const text = sql.trim().replace(/;\s*$/, '') + ';\n';
  let out: string;
  try {
    out =
      engine === 'postgresql'
        ? await runTool(psqlQuery(target, database), ctx, text, { tool: 'psql' })
        : await mysqlQuery(engine === 'mysql' ? 'mysql' : 'mariadb', target, database, text, ctx);
  } catch (err) {
    return { ok: false, value: `error: ${describeError(err)}` };
  }
  const first = out.split('\n')[0] ?? '';
  const value = (engine === 'postgresql' ? first.split('|')[0] : first.split('\t')[0]) ?? '';
  const ok = /^(t|true|1|on|yes)$/i.test(value.trim());
  return { ok, value: out.trim() === '' ? '(no row)' : value };
}
