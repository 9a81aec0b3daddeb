/**
 * Which identity a backup uses, from the well-known variables of each
 * engine's official and Bitnami images.
 *
 * The most privileged identity the container declares is preferred, since a
 * logical backup must read everything: the PostgreSQL superuser (Bitnami's
 * POSTGRESQL_POSTGRES_PASSWORD over POSTGRESQL_USERNAME), MySQL/MariaDB root
 * (MYSQL_ROOT_PASSWORD over MYSQL_USER, which may lack the privileges for
 * routines, events, triggers of other users and `--all-databases`).
 */
import type { EngineType } from '../manifest.js';

/** What a database pod's environment says about how to log in. */
export interface Credentials {
  username?: string;
  password?: string;
  database?: string;
}

/** One environment variable as read: its value, or why it could not be read. */
export type EnvEntry = { value: string } | { problem: string };

type Env = Map<string, EnvEntry>;
export type Identity = { ok: true; credentials: Credentials } | { ok: false; message: string };

const pgOfficial = ['POSTGRES_USER', 'POSTGRES_PASSWORD', 'POSTGRES_DB', 'POSTGRES_PASSWORD_FILE'];
const pgBitnami = [
  'POSTGRESQL_USERNAME',
  'POSTGRESQL_PASSWORD',
  'POSTGRESQL_DATABASE',
  'POSTGRESQL_POSTGRES_PASSWORD',
];
const mysqlNames = (p: string) => [
  `${p}_ROOT_PASSWORD`,
  `${p}_ROOT_USER`,
  `${p}_USER`,
  `${p}_PASSWORD`,
  `${p}_DATABASE`,
];
const esNames = ['ELASTIC_PASSWORD', 'ELASTICSEARCH_PASSWORD', 'OPENSEARCH_INITIAL_ADMIN_PASSWORD'];

/** The names that mark a container as the database container. */
export function wellKnownNames(type: EngineType): string[] {
  switch (type) {
    case 'postgresql':
      return [...pgOfficial, ...pgBitnami];
    case 'mysql':
    case 'mariadb':
      return [...mysqlNames('MYSQL'), ...mysqlNames('MARIADB')];
    case 'elasticsearch':
      return esNames;
  }
}

export function identityFor(type: EngineType, env: Env): Identity {
  const read = reader(env);
  const result =
    type === 'postgresql'
      ? postgres(read)
      : type === 'elasticsearch'
        ? elasticsearch(read)
        : mysql(type, read);
  if (result.ok) return result;
  const problems = read.problems();
  return {
    ok: false,
    message: problems.length > 0 ? `${result.message} (${problems.join('; ')})` : result.message,
  };
}

function reader(env: Env) {
  const consulted = new Map<string, string>();
  const get = (name: string): string | undefined => {
    const entry = env.get(name);
    if (!entry) return undefined;
    if ('problem' in entry) {
      consulted.set(name, entry.problem);
      return undefined;
    }
    return entry.value === '' ? undefined : entry.value;
  };
  const has = (name: string) => env.has(name);
  const flag = (name: string) => /^(yes|true|1)$/i.test(get(name) ?? '');
  const problems = () => [...consulted].map(([name, problem]) => `${name}: ${problem}`);
  return { get, has, flag, problems };
}
type Read = ReturnType<typeof reader>;

function postgres(r: Read): Identity {
  const bitnami = pgBitnami.some((n) => r.has(n));
  if (bitnami) {
    const superPassword = r.get('POSTGRESQL_POSTGRES_PASSWORD');
    const user = r.get('POSTGRESQL_USERNAME') ?? 'postgres';
    const database = r.get('POSTGRESQL_DATABASE') ?? 'postgres';
    if (superPassword !== undefined) return ok('postgres', superPassword, database);
    const password = r.get('POSTGRESQL_PASSWORD');
    if (password !== undefined) return ok(user, password, database);
    if (r.flag('ALLOW_EMPTY_PASSWORD')) return ok(user, undefined, database);
    return fail(
      'no password: set POSTGRESQL_PASSWORD or POSTGRESQL_POSTGRES_PASSWORD (from a Secret)',
    );
  }
  const user = r.get('POSTGRES_USER') ?? 'postgres';
  const database = r.get('POSTGRES_DB') ?? user;
  const password = r.get('POSTGRES_PASSWORD');
  if (password !== undefined) return ok(user, password, database);
  if (r.get('POSTGRES_HOST_AUTH_METHOD') === 'trust') return ok(user, undefined, database);
  if (r.has('POSTGRES_PASSWORD_FILE')) {
    return fail(
      'POSTGRES_PASSWORD_FILE is not supported: snapkeeper cannot read files in the pod; set POSTGRES_PASSWORD from a Secret',
    );
  }
  return fail('no password: set POSTGRES_PASSWORD (from a Secret) in the database container');
}

function mysql(type: 'mysql' | 'mariadb', r: Read): Identity {
  const prefixes = type === 'mariadb' ? ['MARIADB', 'MYSQL'] : ['MYSQL', 'MARIADB'];
  const first = (suffix: string) =>
    prefixes.map((p) => r.get(`${p}_${suffix}`)).find((v) => v !== undefined);
  const database = first('DATABASE');
  const randomRoot = prefixes.some((p) => r.flag(`${p}_RANDOM_ROOT_PASSWORD`));
  const rootPassword = first('ROOT_PASSWORD');
  const rootUser = first('ROOT_USER') ?? 'root';
  if (rootPassword !== undefined && !randomRoot) return ok(rootUser, rootPassword, database);
  const user = first('USER');
  const password = first('PASSWORD');
  if (user !== undefined && password !== undefined) return ok(user, password, database);
  const emptyRoot =
    prefixes.some(
      (p) => r.flag(`${p}_ALLOW_EMPTY_PASSWORD`) || r.flag(`${p}_ALLOW_EMPTY_ROOT_PASSWORD`),
    ) || r.flag('ALLOW_EMPTY_PASSWORD');
  if (emptyRoot && !randomRoot) return ok(rootUser, undefined, database);
  const p = prefixes[0]!;
  return fail(
    `no credentials: set ${p}_ROOT_PASSWORD, or ${p}_USER and ${p}_PASSWORD (from a Secret)`,
  );
}

function elasticsearch(r: Read): Identity {
  const elastic = r.get('ELASTIC_PASSWORD') ?? r.get('ELASTICSEARCH_PASSWORD');
  if (elastic !== undefined) return ok('elastic', elastic, undefined);
  const admin = r.get('OPENSEARCH_INITIAL_ADMIN_PASSWORD');
  if (admin !== undefined) return ok('admin', admin, undefined);
  // A variable that exists but cannot be read is an error, not "no security".
  if (r.problems().length > 0) return fail('the password variable cannot be resolved');
  return { ok: true, credentials: {} };
}

function ok(
  username: string,
  password: string | undefined,
  database: string | undefined,
): Identity {
  const credentials: Credentials = { username };
  if (password !== undefined) credentials.password = password;
  if (database !== undefined) credentials.database = database;
  return { ok: true, credentials };
}

function fail(message: string): Identity {
  return { ok: false, message };
}
