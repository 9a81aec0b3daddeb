// Helpers for tests that run against the servers of the global setups. They
// take what `inject(...)` returns, so a test reads:
//
//   const pg = inject('postgres');
//   const db = await createPgDatabase(pg);
//   await psql(pg, db, 'CREATE TABLE t (x int)');
//
// Passwords travel in the environment (PGPASSWORD, MYSQL_PWD), never argv.
import {
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  type MultipartUpload,
  type _Object,
} from '@aws-sdk/client-s3';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject, type ProvidedContext } from 'vitest';
import { exec, run } from './exec.js';
import { binaries } from './paths.js';

export type PgInfo = ProvidedContext['postgres'];
export type MariaInfo = ProvidedContext['mariadb'];
export type S3Info = ProvidedContext['s3'];
export type KubeInfo = ProvidedContext['kube'];

export { exec, run, type RunResult } from './exec.js';

let scratchRoot: string | undefined;
/**
 * A new temporary directory inside the one the project's global setup made
 * (removed at its teardown); in a project without one, inside a directory
 * removed when this worker exits.
 */
export function scratchDir(prefix = 'scratch'): Promise<string> {
  if (!scratchRoot) {
    const provided = inject('scratchDir');
    if (provided) {
      scratchRoot = provided;
    } else {
      const root = mkdtempSync(join(tmpdir(), 'snapkeeper-test-'));
      process.on('exit', () => rmSync(root, { recursive: true, force: true }));
      scratchRoot = root;
    }
  }
  return mkdtemp(join(scratchRoot, `${prefix}-`));
}

/** A fresh name for a database, bucket prefix, namespace ... (lowercase, [a-z0-9_]). */
export function uniqueName(prefix = 't'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

// --- PostgreSQL ---------------------------------------------------------

/** The environment psql / pg_dump / pg_restore need to reach `pg`. */
export function pgEnv(pg: PgInfo): NodeJS.ProcessEnv {
  return { PGHOST: pg.host, PGPORT: String(pg.port), PGUSER: pg.user, PGPASSWORD: pg.password };
}

/** A postgresql:// URL (password included: for code under test that takes URLs). */
export function pgUrl(pg: PgInfo, db: string): string {
  return `postgresql://${encodeURIComponent(pg.user)}:${encodeURIComponent(pg.password)}@${pg.host}:${pg.port}/${encodeURIComponent(db)}`;
}

/** pg_dump of a database, normalised only for what legitimately differs between two databases' dumps. */
export async function pgDumpText(pg: PgInfo, db: string): Promise<string> {
  const out = await run(join(pg.binDir, 'pg_dump'), ['--no-password', '-d', db], {
    env: pgEnv(pg),
  });
  // \restrict / \unrestrict carry a random key per run (PostgreSQL ≥ 15.14).
  return out.replace(/^\\(un)?restrict .*$/gm, '\\$1restrict <key>');
}

/** Runs SQL through psql (ON_ERROR_STOP); returns unaligned, tuples-only output. */
export function psql(pg: PgInfo, db: string, sql: string): Promise<string> {
  return run(join(pg.binDir, 'psql'), ['-X', '-v', 'ON_ERROR_STOP=1', '-A', '-t', '-q', '-d', db], {
    env: pgEnv(pg),
    input: sql,
  });
}

export async function createPgDatabase(pg: PgInfo, name = uniqueName('pg')): Promise<string> {
  await psql(pg, 'postgres', `CREATE DATABASE "${name}"`);
  return name;
}

// --- MariaDB ------------------------------------------------------------

export function mariadbEnv(my: MariaInfo): NodeJS.ProcessEnv {
  return { MYSQL_PWD: my.password };
}

/** `mariadb` client arguments that reach `my` (no password: see mariadbEnv). */
export function mariadbArgs(my: MariaInfo): string[] {
  return ['--no-defaults', '--protocol=TCP', '-h', my.host, '-P', String(my.port), '-u', my.user];
}

export function mariadbUrl(
  my: MariaInfo,
  db: string,
  scheme: 'mariadb' | 'mysql' = 'mariadb',
): string {
  return `${scheme}://${encodeURIComponent(my.user)}:${encodeURIComponent(my.password)}@${my.host}:${my.port}/${encodeURIComponent(db)}`;
}

/** Runs SQL through the mariadb client (batch, no column names); db '' for none. */
/** mariadb-dump of a database with the options snapkeeper uses; the dump date and the database's name are left out. */
export async function mariadbDumpText(my: MariaInfo, db: string): Promise<string> {
  const out = await run(
    join(my.binDir, 'mariadb-dump'),
    [
      ...mariadbArgs(my),
      '--skip-dump-date',
      '--routines',
      '--triggers',
      '--events',
      '--hex-blob',
      '--single-transaction',
      db,
    ],
    { env: mariadbEnv(my) },
  );
  // Comments name the database: the one thing that legitimately differs.
  return out.replace(/^-- Host: .*$/m, '-- Host: <normalised>').replaceAll(`'${db}'`, "'<db>'");
}

export function mariadbExec(my: MariaInfo, db: string, sql: string): Promise<string> {
  return run(join(my.binDir, 'mariadb'), [...mariadbArgs(my), '-N', '-B', ...(db ? [db] : [])], {
    env: mariadbEnv(my),
    input: sql,
  });
}

export async function createMariaDatabase(my: MariaInfo, name = uniqueName('my')): Promise<string> {
  await mariadbExec(my, '', `CREATE DATABASE \`${name}\``);
  return name;
}

// --- S3 -----------------------------------------------------------------

export function s3Client(s3: S3Info): S3Client {
  return new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
}

/** The standard AWS variables for code under test that reads them. */
export function awsEnv(s3: S3Info): NodeJS.ProcessEnv {
  return {
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
  };
}

/** Every object under prefix (all pages). */
export async function listAllObjects(
  s3: S3Info,
  prefix = '',
  bucket = s3.bucket,
): Promise<_Object[]> {
  const client = s3Client(s3);
  const out: _Object[] = [];
  try {
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      out.push(...(page.Contents ?? []));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } finally {
    client.destroy();
  }
  return out;
}

/** Multipart uploads still open in bucket (under prefix): [] proves none was left behind. */
export async function listMultipartUploads(
  s3: S3Info,
  bucket = s3.bucket,
  prefix?: string,
): Promise<MultipartUpload[]> {
  const client = s3Client(s3);
  const out: MultipartUpload[] = [];
  try {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await client.send(
        new ListMultipartUploadsCommand({
          Bucket: bucket,
          Prefix: prefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      out.push(...(page.Uploads ?? []));
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  } finally {
    client.destroy();
  }
  return out;
}

/**
 * rclone configured only through the environment (remote name SNAPKEEPERS3,
 * no config file), so the read-back is by a client nobody here wrote.
 */
export function rcloneEnv(s3: S3Info, remote = 'SNAPKEEPERS3'): NodeJS.ProcessEnv {
  const p = `RCLONE_CONFIG_${remote}_`;
  return {
    RCLONE_CONFIG: '/dev/null',
    // rclone's AWS SDK rejects a custom CA bundle on its own transport
    // ("LoadCustomCABundleError"); the endpoint here is plain HTTP anyway.
    AWS_CA_BUNDLE: undefined,
    [`${p}TYPE`]: 's3',
    [`${p}PROVIDER`]: 'Other',
    [`${p}ACCESS_KEY_ID`]: s3.accessKeyId,
    [`${p}SECRET_ACCESS_KEY`]: s3.secretAccessKey,
    [`${p}ENDPOINT`]: s3.endpoint,
    [`${p}REGION`]: s3.region,
    [`${p}FORCE_PATH_STYLE`]: 'true',
  };
}

/** An object's bytes, read back with rclone. */
export async function rcloneCat(s3: S3Info, key: string, bucket = s3.bucket): Promise<Buffer> {
  const r = await exec(binaries.rclone(), ['cat', `SNAPKEEPERS3:${bucket}/${key}`], {
    env: rcloneEnv(s3),
  });
  if (r.code !== 0)
    throw new Error(`rclone cat ${bucket}/${key} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Keys (relative to prefix) with their sizes, listed by rclone. */
export async function rcloneList(
  s3: S3Info,
  prefix = '',
  bucket = s3.bucket,
): Promise<{ path: string; size: number }[]> {
  const out = await run(
    binaries.rclone(),
    ['lsjson', '-R', '--files-only', `SNAPKEEPERS3:${bucket}/${prefix}`],
    {
      env: rcloneEnv(s3),
    },
  );
  return (JSON.parse(out) as { Path: string; Size: number }[]).map((e) => ({
    path: e.Path,
    size: e.Size,
  }));
}

// --- age ----------------------------------------------------------------

/** A new age identity in a temporary file (age-keygen), and its recipient. */
export async function ageKeypair(): Promise<{ identityFile: string; recipient: string }> {
  const dir = await scratchDir('age');
  const identityFile = join(dir, 'key.txt');
  await run(binaries.ageKeygen(), ['-o', identityFile]);
  const text = await readFile(identityFile, 'utf8');
  const recipient = /public key: (age1[0-9a-z]+)/.exec(text)?.[1];
  if (!recipient) throw new Error(`age-keygen wrote no public key into ${identityFile}`);
  return { identityFile, recipient };
}

// --- Kubernetes ---------------------------------------------------------

/** A KubeConfig with the admin token (system:masters). */
export function kubeConfig(kube: KubeInfo, token = kube.token): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [
      { name: 'snapkeeper-test', server: kube.server, caData: kube.caData, skipTLSVerify: false },
    ],
    users: [{ name: 'user', token }],
    contexts: [{ name: 'snapkeeper-test', cluster: 'snapkeeper-test', user: 'user' }],
    currentContext: 'snapkeeper-test',
  });
  return kc;
}

/**
 * A token for ServiceAccount ns/sa through the TokenRequest API (the account
 * is created when missing), to act with exactly the RBAC it is granted.
 */
export async function serviceAccountToken(
  kube: KubeInfo,
  namespace: string,
  serviceAccount: string,
  expirationSeconds = 3600,
): Promise<string> {
  const core = kubeConfig(kube).makeApiClient(CoreV1Api);
  try {
    await core.readNamespacedServiceAccount({ name: serviceAccount, namespace });
  } catch (err) {
    if ((err as { code?: number }).code !== 404) throw err;
    await core.createNamespacedServiceAccount({
      namespace,
      body: { metadata: { name: serviceAccount } },
    });
  }
  const tr = await core.createNamespacedServiceAccountToken({
    name: serviceAccount,
    namespace,
    body: { spec: { audiences: [], expirationSeconds } },
  });
  const token = tr.status?.token;
  if (!token) throw new Error(`TokenRequest for ${namespace}/${serviceAccount} returned no token`);
  return token;
}

/** A KubeConfig acting as ServiceAccount ns/sa. */
export async function serviceAccountKubeConfig(
  kube: KubeInfo,
  namespace: string,
  serviceAccount: string,
): Promise<KubeConfig> {
  return kubeConfig(kube, await serviceAccountToken(kube, namespace, serviceAccount));
}

/** The environment kubectl and helm need to reach `kube` as admin. */
export function kubeEnv(kube: KubeInfo): NodeJS.ProcessEnv {
  return { KUBECONFIG: kube.kubeconfig, PATH: `${kube.binDir}:${process.env.PATH ?? ''}` };
}
