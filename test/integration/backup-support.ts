// Shared by the backup-* integration tests: run the CLI in-process with its
// own stdout/stderr/env, and read back what a backup left in the bucket.
import { readdir, readFile } from 'node:fs/promises';
import { PassThrough } from 'node:stream';
import { setImmediate as yieldToEvents } from 'node:timers/promises';
import { getEngine } from '../../dumpers/index.js';
import { run as runCli } from '../../src/cli.js';
import type { CliContext } from '../../src/cli/context.js';
import { parseDbUrl, withPasswordFromEnv } from '../../src/dburl.js';
import { DEFAULT_KEY_TEMPLATE } from '../../src/contract/key-template.js';
import { runBackup, type BackupRequest } from '../../src/dump/run.js';
import { createLogger } from '../../src/log.js';
import type { Storage } from '../../src/storage/types.js';
import {
  awsEnv,
  exec,
  listAllObjects,
  listMultipartUploads,
  rcloneCat,
  type S3Info,
} from '../env/helpers.js';
import { binaries } from '../env/paths.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  logs: string[];
}

/** Runs `snapkeeper <argv>` in this process, as src/main.ts would. */
export async function snapkeeper(
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  signal: AbortSignal = new AbortController().signal,
): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const logs: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (c: Buffer) => out.push(c.toString()));
  stderr.on('data', (c: Buffer) => err.push(c.toString()));
  const ctx: CliContext = {
    stdout,
    stderr,
    env: { ...process.env, ...env },
    log: createLogger({ format: 'json', level: 'debug', write: (l) => logs.push(l) }),
    signal,
  };
  const code = await runCli(argv, ctx);
  return { code, stdout: out.join(''), stderr: err.join(''), logs };
}

/**
 * The dumper's run (runBackup) of the database at `url` as the workload
 * shop/postgres, at the time `at`, with what else the test chooses.
 */
export function backupAt(
  storage: Storage,
  url: string,
  at: Date,
  more: Partial<BackupRequest> = {},
): ReturnType<typeof runBackup> {
  const { engine, target } = withPasswordFromEnv(parseDbUrl(url), {});
  return runBackup({
    engine: getEngine(engine),
    target,
    storage,
    recipients: [],
    keyTemplate: DEFAULT_KEY_TEMPLATE,
    workload: { namespace: 'shop', kind: 'StatefulSet', name: 'postgres' },
    log: createLogger({ format: 'json', level: 'error', write: () => undefined }),
    signal: new AbortController().signal,
    now: () => at,
    ...more,
  });
}

/** The S3 flags and environment for `backup --to s3://…`. */
export function s3Args(s3: S3Info, prefix: string, bucket = s3.bucket): string[] {
  return [
    '--to',
    `s3://${bucket}/${prefix}`,
    '--endpoint',
    s3.endpoint,
    '--region',
    s3.region,
    '--force-path-style',
  ];
}

export function s3Env(s3: S3Info): NodeJS.ProcessEnv {
  const env = awsEnv(s3);
  delete env.AWS_ENDPOINT_URL_S3;
  return env;
}

/** Objects AND open multipart uploads under prefix: both must be empty after a failure. */
export async function leftovers(s3: S3Info, prefix: string) {
  const objects = (await listAllObjects(s3, prefix)).map((o) => o.Key);
  const uploads = (await listMultipartUploads(s3, s3.bucket, prefix)).map((u) => u.Key);
  return { objects, uploads };
}

/**
 * Downloads an object with rclone, decrypts it with the reference `age`
 * binary, gunzips it with the real `gunzip`: the plain dump.
 */
export async function fetchDecryptGunzip(
  s3: S3Info,
  key: string,
  identityFile: string,
): Promise<{ stored: Buffer; plain: Buffer }> {
  const stored = await rcloneCat(s3, key);
  const dec = await exec(binaries.age(), ['-d', '-i', identityFile], { input: stored });
  if (dec.code !== 0) throw new Error(`age -d failed: ${dec.stderr}`);
  const gz = await exec('gunzip', ['-c'], { input: dec.stdout });
  if (gz.code !== 0) throw new Error(`gunzip failed: ${gz.stderr}`);
  return { stored, plain: gz.stdout };
}

/** Every process's argv, read from /proc. */
export async function allCommandLines(): Promise<{ pid: number; argv: string[] }[]> {
  const out: { pid: number; argv: string[] }[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const raw = await readFile(`/proc/${name}/cmdline`);
      if (raw.length > 0) out.push({ pid: Number(name), argv: raw.toString().split('\0') });
    } catch {
      // gone already
    }
  }
  return out;
}

/**
 * Samples every process's command line while `during` runs: the processes
 * seen (`<pid> <command line>`, once each), the basenames of their
 * executables, and every command line that held one of `secrets` (also
 * percent-encoded).
 */
export async function watchArgv<T>(during: Promise<T>, secrets: readonly string[]) {
  const needles = secrets.flatMap((s) => [s, encodeURIComponent(s)]);
  const seen = new Set<string>();
  const tools = new Set<string>();
  const leaked: string[] = [];
  let running = true;
  const poll = (async () => {
    while (running) {
      for (const p of await allCommandLines()) {
        const line = p.argv.join(' ');
        seen.add(`${p.pid} ${line}`);
        tools.add(p.argv[0]?.split('/').pop() ?? '');
        if (needles.some((n) => line.includes(n))) leaked.push(line);
      }
      await yieldToEvents();
    }
  })();
  try {
    return { result: await during, seen, tools, leaked };
  } finally {
    running = false;
    await poll;
  }
}
