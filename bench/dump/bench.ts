// The dump benchmark (not a test): a realistic PostgreSQL database of about
// 0.7 GB of plain dump. In one run, in rounds (BENCH_ROUNDS, default 2),
// each round runs the shell baselines and every snapkeeper variant one after
// the other, so each variant's ratio is to the baseline `pg_dump | gzip -6`
// of its own round (the median over the rounds is reported): backups with
// gzip (parallel) and zstd, with and without age, to a directory and to S3;
// restores `--to` a fresh database against `gunzip | psql` and
// `zstd -d | psql`, and `restore-test` (restore into a scratch server it
// starts, then count and compare) against `gunzip | psql`; the CPU cost of
// counting what the dump holds (the SQL scanner alone, in this process, over
// the same dump), as a share of a backup's wall time. Wall time and peak RSS come from GNU time
// (`/usr/bin/time -v`); compressed sizes from the stored bytes.
// Run with bench/dump/run.sh.
//
// Environment: BENCH_ROWS (default 3_400_000 rows ≈ 0.7 GB of dump; 15_000_000
// ≈ 3 GB), BENCH_ROUNDS (default 2).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { SqlScanner } from '../../src/contents/sql-scan.js';
import { startPostgres } from '../../test/env/servers/postgres.js';
import { startS3 } from '../../test/env/servers/s3.js';
import { repoRoot } from '../../test/env/paths.js';
import { createBenchDatabase, pgEnvOf, psql, timed, type Timed } from './setup.js';

/** The one object of the newest backup of `workload` in `dir` (key relative to dir). */
function findObject(dir: string, workload: string): { key: string } {
  const base = join(dir, workload);
  const backups = readdirSync(base).sort();
  const last = backups[backups.length - 1]!;
  const file = readdirSync(join(base, last)).find((f) => f !== 'manifest.json')!;
  return { key: join(workload, last, file) };
}

const rows_ = Number(process.env.BENCH_ROWS ?? 3_400_000);
const pg = await startPostgres();
const s3 = await startS3();
try {
  const pgEnv = pgEnvOf(pg);
  const size = await createBenchDatabase(pg.binDir, pgEnv, rows_);

  const pgDump = join(pg.binDir, 'pg_dump');
  const psqlBin = join(pg.binDir, 'psql');
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
  const dir = mkdtempSync(join(tmpdir(), 'snapkeeper-bench-'));
  // A throwaway recipient: the benchmark measures encryption, nobody decrypts.
  const { generateIdentity, identityToRecipient } = await import('age-encryption');
  const recipient = await identityToRecipient(await generateIdentity());
  const hasPigz = spawnSync('pigz', ['--version']).status === 0;
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);

  const shell = (cmd: string) => ['bash', '-c', `set -o pipefail; ${cmd}`];
  interface Variant {
    name: string;
    argv: (round: number) => string[];
    /** Stored bytes, from the command's stdout. */
    size: (t: Timed) => number;
  }
  const wc = (t: Timed) => Number(t.stdout.trim());
  const json = (t: Timed) => (JSON.parse(t.stdout) as { bytes: number }).bytes;
  const backup = (tag: string, to: string, extra: string[]) => (round: number) => [
    'node',
    cli,
    'backup',
    url,
    '--to',
    to,
    '--name',
    `bench/r${round}-${tag}`,
    ...extra,
    '-o',
    'json',
  ];
  const s3To = `s3://${s3.bucket}/bench`;
  const variants: Variant[] = [
    {
      name: '`pg_dump \\| gzip -6` (baseline)',
      argv: () => shell(`"${pgDump}" -d bench | gzip -6 | wc -c`),
      size: wc,
    },
    {
      name: '`pg_dump \\| zstd -3`',
      argv: () => shell(`"${pgDump}" -d bench | zstd -3 -q -c | wc -c`),
      size: wc,
    },
    ...(hasPigz
      ? [
          {
            name: '`pg_dump \\| pigz -6`',
            argv: () => shell(`"${pgDump}" -d bench | pigz -6 | wc -c`),
            size: wc,
          },
        ]
      : []),
    { name: 'snapkeeper gzip → dir', argv: backup('gzip-dir', dir, []), size: json },
    { name: 'snapkeeper gzip → S3', argv: backup('gzip-s3', s3To, []), size: json },
    {
      name: 'snapkeeper gzip + age → S3',
      argv: backup('gzip-age-s3', s3To, ['--recipient', recipient]),
      size: json,
    },
    {
      name: 'snapkeeper zstd → dir',
      argv: backup('zstd-dir', dir, ['--compression', 'zstd']),
      size: json,
    },
    {
      name: 'snapkeeper zstd → S3',
      argv: backup('zstd-s3', s3To, ['--compression', 'zstd']),
      size: json,
    },
    {
      name: 'snapkeeper zstd + age → S3',
      argv: backup('zstd-age-s3', s3To, ['--compression', 'zstd', '--recipient', recipient]),
      size: json,
    },
  ];

  interface Row {
    name: string;
    wall: number[];
    ratio: number[];
    rss: number[];
    bytes: number;
  }
  const rows = new Map<string, Row>();
  const record = (name: string, t: Timed, base: number, bytes: number) => {
    const r = rows.get(name) ?? { name, wall: [], ratio: [], rss: [], bytes };
    r.wall.push(t.wallSeconds);
    r.ratio.push(t.wallSeconds / base);
    r.rss.push(t.maxRssKiB);
    rows.set(name, r);
  };
  const rawBytes = Number(
    (await timed(shell(`"${pgDump}" -d bench | wc -c`), pgEnv)).stdout.trim(),
  );

  // Restores: each round's backups to the directory, into fresh databases.
  const restoreRows = new Map<string, Row>();
  const recordRestore = (name: string, t: Timed, base: number) => {
    const r = restoreRows.get(name) ?? { name, wall: [], ratio: [], rss: [], bytes: 0 };
    r.wall.push(t.wallSeconds);
    r.ratio.push(t.wallSeconds / base);
    r.rss.push(t.maxRssKiB);
    restoreRows.set(name, r);
  };
  let dbs = 0;
  const freshDb = () => `restored_${++dbs}`;
  const dropDb = (name: string) =>
    psql(pg.binDir, pgEnv, 'postgres', `DROP DATABASE IF EXISTS ${name}`);

  for (let round = 1; round <= rounds; round++) {
    let base = 0;
    for (const v of variants) {
      const t = await timed(v.argv(round), { ...pgEnv, ...awsEnv });
      if (base === 0) base = t.wallSeconds;
      record(v.name, t, base, v.size(t));
      console.error(`round ${round}: ${v.name}: ${t.wallSeconds.toFixed(1)} s`);
    }
    // Restore: the shell pipeline and snapkeeper, alternated, into fresh databases.
    for (const [compression, tool] of [
      ['gzip', 'gunzip -c'],
      ['zstd', 'zstd -d -q -c'],
    ] as const) {
      const workload = `bench/r${round}-${compression}-dir`;
      const { key } = findObject(dir, workload);
      const a = freshDb();
      await psql(pg.binDir, pgEnv, 'postgres', `CREATE DATABASE ${a}`);
      const baseT = await timed(
        shell(
          `${tool} "${join(dir, key)}" | "${psqlBin}" -X -q -v ON_ERROR_STOP=1 --single-transaction -d ${a} > /dev/null`,
        ),
        pgEnv,
      );
      await dropDb(a);
      recordRestore(
        `\`${tool.split(' ')[0]} \\| psql\` (${compression} baseline)`,
        baseT,
        baseT.wallSeconds,
      );
      const b = freshDb();
      const t = await timed(
        [
          'node',
          cli,
          'restore',
          '--from',
          dir,
          '--workload',
          workload,
          '--to',
          `postgresql://${pg.user}@${pg.host}:${pg.port}/${b}`,
        ],
        { ...pgEnv, ...awsEnv },
      );
      await dropDb(b);
      recordRestore(`snapkeeper restore --to (${compression})`, t, baseT.wallSeconds);
      if (compression === 'gzip') {
        // restore-test: a scratch server of its own (initdb, start, restore, count, compare, stop).
        const rt = await timed(
          ['node', cli, 'restore-test', '--from', dir, '--workload', workload, '--no-store'],
          { ...pgEnv, ...awsEnv },
        );
        recordRestore('snapkeeper restore-test (gzip, scratch server)', rt, baseT.wallSeconds);
        console.error(`round ${round}: restore-test gzip: ${rt.wallSeconds.toFixed(1)} s`);
      }
      console.error(
        `round ${round}: restore ${compression}: ${baseT.wallSeconds.toFixed(1)} s vs ${t.wallSeconds.toFixed(1)} s`,
      );
    }
  }

  // Counting's CPU: the plain dump streamed through the SQL scanner, only the
  // scanner timed. It runs on the backup's main thread, so its share of a
  // backup's wall time bounds what counting costs that backup.
  const scanSeconds = await new Promise<number>((resolve, reject) => {
    const child = spawn(pgDump, ['-d', 'bench'], {
      env: { ...process.env, ...pgEnv },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const scanner = new SqlScanner('postgresql', 'bench');
    let ns = 0n;
    child.stdout.on('data', (chunk: Buffer) => {
      const t0 = process.hrtime.bigint();
      scanner.push(chunk);
      ns += process.hrtime.bigint() - t0;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`pg_dump exited ${code}`));
      const t0 = process.hrtime.bigint();
      scanner.end();
      ns += process.hrtime.bigint() - t0;
      resolve(Number(ns) / 1e9);
    });
  });

  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const m = s.length >> 1;
    return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
  };
  const mib = (n: number) => (n / 1024 / 1024).toFixed(0);
  const gzipBytes = rows.values().next().value!.bytes;
  const line = (r: Row, sized = true) =>
    [
      '',
      r.name,
      median(r.wall).toFixed(1),
      median(r.ratio).toFixed(2),
      (Math.max(...r.rss) / 1024).toFixed(0),
      ...(sized ? [`${mib(r.bytes)} (${((r.bytes / gzipBytes - 1) * 100).toFixed(1)} %)`] : []),
      '',
    ]
      .join(' | ')
      .trim();
  const cpu =
    /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model;
  const pgVersion = (await psql(pg.binDir, pgEnv, 'postgres', 'SHOW server_version')).trim();
  const report = [
    `### ${new Date().toISOString().slice(0, 10)} — ${rows_.toLocaleString('en')} rows, ${mib(rawBytes)} MiB of plain dump (database ${size})`,
    '',
    `Machine: ${cpus().length} CPUs (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM; PostgreSQL ${pgVersion}, S3 server versitygw on the same machine; Node ${process.version}. ${rounds} round(s); each figure is the median, each ratio against the baseline of the same round.`,
    '',
    '| backup | wall s | × `gzip -6` | peak RSS MiB | stored MiB (vs gzip -6) |',
    '|---|---|---|---|---|',
    ...[...rows.values()].map((r) => line(r)),
    '',
    '| restore into a fresh database | wall s | × shell pipeline | peak RSS MiB |',
    '|---|---|---|---|',
    ...[...restoreRows.values()].map((r) => line(r, false)),
    '',
    `Counting what the dump holds (the SQL scanner alone over the same ${mib(rawBytes)} MiB): ${scanSeconds.toFixed(2)} s of CPU (${(rawBytes / 2 ** 20 / scanSeconds).toFixed(0)} MiB/s), ${((scanSeconds / median(rows.get('snapkeeper gzip → dir')!.wall)) * 100).toFixed(1)} % of the median \`snapkeeper gzip → dir\` wall time: an upper bound of what counting costs that backup.`,
    '',
    "Peak RSS is GNU time's figure: the largest single process of the run (node for snapkeeper; pg_dump, gzip, zstd or psql for the shell pipelines).",
  ].join('\n');
  console.log(report);
  rmSync(dir, { recursive: true, force: true });
} finally {
  await s3.stop();
  await pg.stop();
}
