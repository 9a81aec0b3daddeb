// What the dump benchmarks share (bench.ts, memory.ts): the realistic
// database they dump, and running a command under GNU time.
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';

export interface Timed {
  wallSeconds: number;
  maxRssKiB: number;
  stdout: string;
}

/** Runs argv under `/usr/bin/time -v`, returns wall time and peak RSS. */
export function timed(argv: string[], env: NodeJS.ProcessEnv): Promise<Timed> {
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

export function psql(
  bin: string,
  env: NodeJS.ProcessEnv,
  db: string,
  sql: string,
): Promise<string> {
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

/** The libpq environment for the benchmark's server. */
export function pgEnvOf(pg: { host: string; port: number; user: string; password: string }) {
  return {
    PGHOST: pg.host,
    PGPORT: String(pg.port),
    PGUSER: pg.user,
    PGPASSWORD: pg.password,
  };
}

/** Creates the database `bench` with `rows` orders; returns its size as PostgreSQL prints it. */
export async function createBenchDatabase(
  bin: string,
  pgEnv: NodeJS.ProcessEnv,
  rows_: number,
): Promise<string> {
  await psql(bin, pgEnv, 'postgres', 'CREATE DATABASE bench');
  const t0 = Date.now();
  // Orders with customers' names and e-mails, a JSON document, free text
  // from a vocabulary, timestamps and amounts: compresses like real data
  // (about 4-5×), not like pgbench's blank filler. g is a bigint: g * k * 31
  // passes 2^31 beyond about 4.3 M rows (the same values below that).
  await psql(
    bin,
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
     FROM generate_series(1::bigint, ${rows_}) g;
     VACUUM ANALYZE orders;`,
  );
  const size = (
    await psql(bin, pgEnv, 'bench', "SELECT pg_size_pretty(pg_database_size('bench'))")
  ).trim();
  console.error(`generated ${rows_} rows (${size}) in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  return size;
}
