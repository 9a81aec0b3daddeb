// The dump benchmark (not a test): a realistic PostgreSQL database of about
// 0.7 GB of plain dump, backed up by `snapkeeper backup` to the S3 server,
// against `pg_dump | gzip -6 > /dev/null` in the same run. Wall time and peak
// RSS come from GNU time (`/usr/bin/time -v`). Run with bench/dump/run.sh.
//
// Environment: BENCH_ROWS (default 3_400_000 rows ≈ 0.7 GB of dump).
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { startPostgres } from '../../test/env/servers/postgres.js';
import { startS3 } from '../../test/env/servers/s3.js';
import { repoRoot } from '../../test/env/paths.js';

interface Timed {
  wallSeconds: number;
  maxRssKiB: number;
  stdout: string;
}

/** Runs argv under `/usr/bin/time -v`, returns wall time and peak RSS. */
function timed(argv: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/time', ['-v', ...argv], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => {
      if (code !== 0)
        return reject(new Error(`${argv.join(' ')} exited ${code}: ${err.slice(-2000)}`));
      const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (.*)/.exec(err)?.[1] ?? '';
      const parts = wall.split(':').map(Number);
      const wallSeconds = parts.reduce((acc, p) => acc * 60 + p, 0);
      const maxRssKiB = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(err)?.[1]);
      resolve({ wallSeconds, maxRssKiB, stdout: out });
    });
  });
}

function psql(bin: string, env: NodeJS.ProcessEnv, db: string, sql: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = execFile(
      join(bin, 'psql'),
      ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', db],
      { env: { ...process.env, ...env }, maxBuffer: 1 << 24 },
      (err, stdout, stderr) => (err ? reject(new Error(stderr || err.message)) : resolve(stdout)),
    );
    c.stdin?.end(sql);
  });
}

const rows = Number(process.env.BENCH_ROWS ?? 3_400_000);
const pg = await startPostgres();
const s3 = await startS3();
try {
  const pgEnv = {
    PGHOST: pg.host,
    PGPORT: String(pg.port),
    PGUSER: pg.user,
    PGPASSWORD: pg.password,
  };
  await psql(pg.binDir, pgEnv, 'postgres', 'CREATE DATABASE bench');
  const t0 = Date.now();
  // Orders with customers' names and e-mails, a JSON document, free text
  // from a vocabulary, timestamps and amounts: compresses like real data
  // (about 4-5×), not like pgbench's blank filler.
  await psql(
    pg.binDir,
    pgEnv,
    'bench',
    `CREATE TABLE orders (
       id bigint PRIMARY KEY, customer text, email text, placed timestamptz,
       amount numeric(12,2), status text, doc jsonb, note text);
     INSERT INTO orders
     SELECT g,
            initcap(substr(md5(g::text), 1, 6)) || ' ' || initcap(substr(md5((g*3)::text), 1, 9)),
            substr(md5((g*7)::text), 1, 10) || '@example.' || (ARRAY['com','org','net','io'])[1 + g % 4],
            timestamptz '2024-01-01' + (g * interval '17 seconds'),
            round((random() * 1000)::numeric, 2),
            (ARRAY['new','paid','shipped','delivered','returned'])[1 + (g * 7) % 5],
            jsonb_build_object('items', 1 + g % 7, 'sku', 'SKU-' || (g % 10007), 'gift', g % 11 = 0,
                               'tags', jsonb_build_array('t' || g % 13, 't' || g % 17)),
            (SELECT string_agg((ARRAY['please','deliver','before','noon','fragile','leave','at','door',
                                      'call','on','arrival','thanks','gift','wrap','invoice','attached'])
                               [1 + ((g * k * 31) % 16)], ' ') FROM generate_series(1, 8 + g % 9) k)
     FROM generate_series(1, ${rows}) g;
     VACUUM ANALYZE orders;`,
  );
  const size = (
    await psql(pg.binDir, pgEnv, 'bench', "SELECT pg_size_pretty(pg_database_size('bench'))")
  ).trim();
  console.error(`generated ${rows} rows (${size}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const pgDump = join(pg.binDir, 'pg_dump');
  const baseline = await timed(
    ['bash', '-c', `set -o pipefail; "${pgDump}" -d bench | gzip -6 > /dev/null`],
    pgEnv,
  );
  const rawBytes = Number(
    (
      await timed(['bash', '-c', `set -o pipefail; "${pgDump}" -d bench | wc -c`], pgEnv)
    ).stdout.trim(),
  );

  const cli = join(repoRoot, 'dist', 'cli.js');
  const awsEnv = {
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    SNAPKEEPER_S3_FORCE_PATH_STYLE: 'true',
    SNAPKEEPER_PASSWORD: pg.password,
    SNAPKEEPER_LOG_FORMAT: 'json',
  };
  const url = `postgresql://${pg.user}@${pg.host}:${pg.port}/bench`;
  const plain = await timed(
    [
      'node',
      cli,
      'backup',
      url,
      '--to',
      `s3://${s3.bucket}/bench`,
      '--name',
      'bench/plain',
      '-o',
      'json',
    ],
    awsEnv,
  );
  // A throwaway recipient: the benchmark measures encryption, nobody decrypts.
  const { generateIdentity, identityToRecipient } = await import('age-encryption');
  const recipient = await identityToRecipient(await generateIdentity());
  const encrypted = await timed(
    [
      'node',
      cli,
      'backup',
      url,
      '--to',
      `s3://${s3.bucket}/bench`,
      '--name',
      'bench/age',
      '--recipient',
      recipient,
      '-o',
      'json',
    ],
    awsEnv,
  );
  const stored = (t: Timed) => JSON.parse(t.stdout) as { bytes: number; rawBytes: number };

  const mib = (n: number) => (n / 1024 / 1024).toFixed(0);
  const row = (name: string, t: Timed, bytes?: number) =>
    `| ${name} | ${t.wallSeconds.toFixed(1)} | ${(t.wallSeconds / baseline.wallSeconds).toFixed(2)} | ${(t.maxRssKiB / 1024).toFixed(0)} | ${bytes === undefined ? '—' : mib(bytes)} | ${(rawBytes / 1024 / 1024 / t.wallSeconds).toFixed(0)} |`;
  const cpu =
    /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model;
  const pgVersion = (await psql(pg.binDir, pgEnv, 'postgres', 'SHOW server_version')).trim();
  const report = [
    `### ${new Date().toISOString().slice(0, 10)} — ${rows.toLocaleString('en')} rows, ${mib(rawBytes)} MiB of plain dump (database ${size})`,
    '',
    `Machine: ${cpus().length} CPUs (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; PostgreSQL ${pgVersion}, S3 server versitygw on the same machine; Node ${process.version}.`,
    '',
    '| run | wall s | × baseline | peak RSS MiB | stored MiB | dump MiB/s |',
    '|---|---|---|---|---|---|',
    row('`pg_dump \\| gzip -6 > /dev/null` (baseline)', baseline),
    row('`snapkeeper backup` → S3', plain, stored(plain).bytes),
    row('`snapkeeper backup --recipient` (age) → S3', encrypted, stored(encrypted).bytes),
    '',
    `Peak RSS is GNU time's figure: the largest single process of the run (node for snapkeeper, pg_dump or gzip for the baseline). Compression ratio: ${(rawBytes / stored(plain).bytes).toFixed(1)}×.`,
  ].join('\n');
  console.log(report);
} finally {
  await s3.stop();
  await pg.stop();
}
