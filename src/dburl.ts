/**
 * Database URLs, as `backup <url>` and `restore --to <url>` take them:
 *
 *   postgresql://user:pass@host:5432/db   (also postgres://)
 *   mysql://user:pass@host:3306/db
 *   mariadb://user:pass@host:3306/db
 *   http(s)://user:pass@host:9200          (Elasticsearch)
 *
 * User and password are percent-decoded. A path of `/*` means all databases.
 * Anything malformed is a UserError that says what is wrong (without the
 * password).
 */
import type { DumpTarget } from '../dumpers/types.js';
import { UserError } from './errors.js';
import { redactUrl } from './log.js';
import type { EngineType } from './manifest.js';

export interface DbUrl {
  engine: EngineType;
  /** `databases` is `[]` when the URL names none (the caller decides: a flag, or an error). */
  target: DumpTarget;
}

const SCHEMES: Record<string, EngineType> = {
  'postgresql:': 'postgresql',
  'postgres:': 'postgresql',
  'mysql:': 'mysql',
  'mariadb:': 'mariadb',
  'http:': 'elasticsearch',
  'https:': 'elasticsearch',
};

export const DEFAULT_PORTS: Record<EngineType, number> = {
  postgresql: 5432,
  mysql: 3306,
  mariadb: 3306,
  elasticsearch: 9200,
};

export function parseDbUrl(input: string): DbUrl {
  const shown = redactUrl(input);
  const bad = (what: string): never => {
    throw new UserError(`invalid database URL ${JSON.stringify(shown)}: ${what}`);
  };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(input)?.[1];
  if (!scheme) {
    bad(
      'expected postgresql://, mysql://, mariadb:// or http(s)://user:password@host[:port]/database',
    );
  }
  const engine = SCHEMES[`${scheme!.toLowerCase()}:`];
  if (!engine) {
    bad(`unknown scheme "${scheme}" (use postgresql, mysql, mariadb, http or https)`);
  }
  let u: URL;
  try {
    u = new URL(input);
  } catch {
    return bad('not a URL (check the host, port and percent-encoding of special characters)');
  }
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  if (!host) bad('no host');
  let port = DEFAULT_PORTS[engine!];
  if (u.port !== '') {
    port = Number(u.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) bad(`port ${u.port} out of range`);
  }
  const decode = (s: string, what: string): string => {
    try {
      return decodeURIComponent(s);
    } catch {
      return bad(`${what} is not valid percent-encoding`);
    }
  };
  const username = u.username ? decode(u.username, 'the user name') : undefined;
  const password = u.password ? decode(u.password, 'the password') : undefined;

  const path = u.pathname.replace(/^\//, '');
  let databases: string[] | '*' = [];
  if (path !== '') {
    if (engine === 'elasticsearch') bad('an Elasticsearch URL has no path (it dumps every index)');
    const name = decode(path, 'the database name');
    if (name.includes('/')) bad(`"${name}" is not a database name (one path segment expected)`);
    databases = name === '*' ? '*' : [name];
  } else if (engine === 'elasticsearch') {
    databases = '*';
  }
  const target: DumpTarget = { host, port, databases, extraArgs: [] };
  if (username !== undefined) target.username = username;
  if (password !== undefined) target.password = password;
  if (engine === 'elasticsearch') target.tls = u.protocol === 'https:';
  return { engine: engine!, target };
}

/** The variables a password is read from when the URL has none, in order. */
export const PASSWORD_VARIABLES: Record<EngineType, string[]> = {
  postgresql: ['SNAPKEEPER_PASSWORD', 'PGPASSWORD'],
  mysql: ['SNAPKEEPER_PASSWORD', 'MYSQL_PWD'],
  mariadb: ['SNAPKEEPER_PASSWORD', 'MYSQL_PWD'],
  elasticsearch: ['SNAPKEEPER_PASSWORD'],
};

/**
 * A password in a URL is visible in `ps` and shell history; without one, the
 * password comes from SNAPKEEPER_PASSWORD, then the engine's usual variable
 * (PGPASSWORD, MYSQL_PWD). The tools themselves never see the caller's
 * environment, so this is the only way it reaches them.
 */
export function withPasswordFromEnv(url: DbUrl, env: NodeJS.ProcessEnv): DbUrl {
  if (url.target.password !== undefined) return url;
  for (const name of PASSWORD_VARIABLES[url.engine]) {
    const value = env[name];
    if (value) return { ...url, target: { ...url.target, password: value } };
  }
  return url;
}

/** `--databases a,b` / `*`: a comma list, trimmed, no empties. */
export function parseDatabaseList(value: string): string[] | '*' {
  const v = value.trim();
  if (v === '*') return '*';
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) throw new UserError('databases: expected a comma list of names, or *');
  if (list.includes('*')) throw new UserError('databases: * cannot be combined with names');
  return [...new Set(list)];
}
