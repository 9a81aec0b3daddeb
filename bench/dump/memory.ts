// The CLI's peak memory (not a test, not a timing): peak RSS of
// `snapkeeper --version`, of `backup --to <dir>` and of `backup` to S3 of
// the benchmark's database, for each CLI bundle given, in one run. RSS does
// not depend on how loaded the machine is, so these figures stand on a busy
// machine where wall times would not (none are recorded).
// Run with BENCH_MEMORY=1 bench/dump/run.sh.
//
// Environment: BENCH_ROWS (default 3_400_000 rows ≈ 0.7 GB of dump);
// BENCH_CLIS, `label=path` pairs separated by commas (default: this
// checkout's dist/cli.js), e.g. to compare a bundle of an older commit.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { generateIdentity, identityToRecipient } from 'age-encryption';
import { startPostgres } from '../../test/env/servers/postgres.js';
import { startS3 } from '../../test/env/servers/s3.js';
import { repoRoot } from '../../test/env/paths.js';
import { createBenchDatabase, pgEnvOf, psql, timed } from './setup.js';

const rows_ = Number(process.env.BENCH_ROWS ?? 3_400_000);
const clis = (process.env.BENCH_CLIS ?? `this checkout=${join(repoRoot, 'dist', 'cli.js')}`)
  .split(',')
  .map((pair) => {
    const i = pair.indexOf('=');
    return { label: pair.slice(0, i), path: pair.slice(i + 1) };
  });
const pg = await startPostgres();
const s3 = await startS3();
const dir = mkdtempSync(join(tmpdir(), 'snapkeeper-memory-'));
try {
  const pgEnv = pgEnvOf(pg);
  const size = await createBenchDatabase(pg.binDir, pgEnv, rows_);
  const env = {
    ...pgEnv,
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
    AWS_ENDPOINT_URL_S3: s3.endpoint,
    SNAPKEEPER_S3_FORCE_PATH_STYLE: 'true',
    SNAPKEEPER_PASSWORD: pg.password,
    SNAPKEEPER_LOG_FORMAT: 'json',
  };
  // A throwaway recipient: the age columns measure memory, nothing is decrypted.
  const recipient = await identityToRecipient(await generateIdentity());
  const pgDump = join(pg.binDir, 'pg_dump');
  const rawBytes = Number(
    (await timed(['sh', '-c', `"${pgDump}" -d bench | wc -c`], pgEnv)).stdout.trim(),
  );
  const url = `postgresql://${pg.user}@${pg.host}:${pg.port}/bench`;
  const mib = (kib: number) => (kib / 1024).toFixed(0);
  const lines: string[] = [];
  for (const [n, { label, path }] of clis.entries()) {
    const backup = (to: string) => ['node', path, 'backup', url, '--to', to, '--name', `mem/c${n}`];
    const version = await timed(['node', path, '--version'], env);
    const toDir = await timed(backup(dir), env);
    const toS3 = await timed(backup(`s3://${s3.bucket}/memory`), env);
    const ageS3 = await timed(
      [...backup(`s3://${s3.bucket}/memory`), '--recipient', recipient],
      env,
    );
    const zstdS3 = await timed(
      [...backup(`s3://${s3.bucket}/memory`), '--compression', 'zstd'],
      env,
    );
    const row = [version, toDir, toS3, ageS3, zstdS3].map((r) => mib(r.maxRssKiB));
    console.error(`${label}: ${row.join(' / ')} MiB`);
    lines.push(`| ${label} | ${row.join(' | ')} |`);
  }
  const cpu =
    /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model;
  const pgVersion = (await psql(pg.binDir, pgEnv, 'postgres', 'SHOW server_version')).trim();
  console.log(
    [
      `### ${new Date().toISOString().slice(0, 10)} — memory only: peak RSS of the CLI, ${rows_.toLocaleString('en')} rows, ${(rawBytes / 2 ** 20).toFixed(0)} MiB of plain dump (database ${size})`,
      '',
      `Machine: ${cpus().length} CPUs (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; PostgreSQL ${pgVersion}, S3 server versitygw on the same machine; Node ${process.version}. One run each; GNU time's maximum resident set size of the node process. No wall times: this run measures memory only.`,
      '',
      '| CLI | `--version` MiB | `backup --to <dir>` MiB | `backup --to s3://…` MiB | with `--recipient` (age) → S3 MiB | with `--compression zstd` → S3 MiB |',
      '|---|---|---|---|---|---|',
      ...lines,
    ].join('\n'),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
  await s3.stop();
  await pg.stop();
}
