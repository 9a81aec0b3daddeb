// The CLI as a separate process, for what an in-process run cannot show:
// real signals (Ctrl-C), a real pipe whose reader goes away, exit statuses.
// It is bundled as `npm run build` bundles it (scripts/build.mjs), from the
// sources under test, into a directory under node_modules so its external
// dependencies resolve.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { exec, type RunResult } from '../env/helpers.js';
import { repoRoot } from '../env/paths.js';

/** Bundles src/main.ts; returns the path of the bundle and a function that removes it. */
export async function buildCli(): Promise<{ cli: string; remove: () => Promise<void> }> {
  const dir = join(
    repoRoot,
    'node_modules',
    '.cache',
    `snapkeeper-cli-${randomBytes(4).toString('hex')}`,
  );
  const cli = join(dir, 'cli.js');
  await build({
    entryPoints: { cli: join(repoRoot, 'src', 'main.ts') },
    outdir: dir,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    define: { SNAPKEEPER_VERSION: '"test"' },
    logLevel: 'warning',
  });
  return { cli, remove: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * `node cli <argv>` to its end (a minute at most): exit status, stdout and
 * stderr; logs at warning level unless `env` says otherwise.
 */
export function runBuiltCli(
  cli: string,
  argv: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<RunResult> {
  return exec(process.execPath, [cli, ...argv], {
    env: { SNAPKEEPER_LOG_LEVEL: 'warn', ...env },
    timeoutMs: 60_000,
  });
}

/**
 * `snapkeeper <argv> | head -c <bytes>` in bash: the CLI's exit status
 * (PIPESTATUS), its stderr, and what head let through.
 */
export async function cliIntoHead(
  cli: string,
  argv: string[],
  bytes: number,
  env: NodeJS.ProcessEnv = {},
): Promise<RunResult> {
  const script = `"$@" | head -c ${bytes}; exit "\${PIPESTATUS[0]}"`;
  return exec('bash', ['-c', script, 'bash', process.execPath, cli, ...argv], {
    // NODE_NO_WARNINGS: the AWS SDK warns about the Node version on every start.
    env: { SNAPKEEPER_LOG_LEVEL: 'warn', NODE_NO_WARNINGS: '1', ...env },
    timeoutMs: 60_000,
  });
}

export interface CliProcess {
  child: ChildProcess;
  /** stdout and stderr so far. */
  output: () => { stdout: string; stderr: string };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `node cli <argv>` with JSON logs on stderr at debug level.
 * `detached`: in a process group of its own, so that a test can send a
 * signal to the group as a terminal's Ctrl-C does.
 */
export function startCli(
  cli: string,
  argv: string[],
  env: NodeJS.ProcessEnv = {},
  options: { detached?: boolean } = {},
): CliProcess {
  const child = spawn(process.execPath, [cli, ...argv], {
    detached: options.detached ?? false,
    env: {
      ...process.env,
      SNAPKEEPER_LOG_FORMAT: 'json',
      SNAPKEEPER_LOG_LEVEL: 'debug',
      NODE_NO_WARNINGS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => ({ stdout, stderr }), exited };
}
