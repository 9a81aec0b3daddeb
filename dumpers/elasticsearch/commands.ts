/**
 * elasticdump invocations as data (pure argv / env builders, unit-tested)
 * and the little process plumbing the dump and the restore share.
 *
 * The password travels in elasticdump's own variables
 * (ELASTICDUMP_INPUT_PASSWORD / ELASTICDUMP_OUTPUT_PASSWORD), never in the
 * URL, which is argv. OpenSearch gets `--force-os-version` (the
 * Elasticsearch API level it is compatible with).
 */
import type { ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { DumpFailedError } from '../../src/errors.js';
import { findExecutable } from '../executables.js';
import { defaultSpawn, runTool } from '../process.js';
import type { DumpTarget, EngineContext, SpawnFn, ToolCommand } from '../types.js';
import type { EsType } from './archive.js';
import { baseUrl, esUsername, type EsServer } from './http.js';

export const DEFAULT_ES_LIMIT = 1000;
/**
 * elasticdump options snapkeeper sets itself (where it reads and writes, the
 * credentials file): the `dump-options` annotation may not set them.
 */
export const ELASTICSEARCH_RESERVED_OPTIONS = ['--input', '--output', '--httpAuthFile'] as const;
/** The Elasticsearch API level elasticdump assumes for OpenSearch (its own default, made explicit). */
export const OPENSEARCH_COMPAT_VERSION = '7.10.2';
/** A non-data output larger than this is refused rather than held in memory. */
export const MAX_SMALL_OUTPUT_BYTES = 256 * 1024 * 1024;
/** elasticdump reports some failures only as a logged error line. */
export const STDERR_FAILURE = /Error Emitted =>/;

type Direction = 'input' | 'output';

/**
 * Where elasticdump is: the package this module resolves (a development
 * checkout), else PATH (the dumper image installs it globally).
 */
export function elasticdumpPath(env: NodeJS.ProcessEnv = process.env): string {
  const dirs: string[] = [];
  try {
    const pkg = createRequire(import.meta.url).resolve('elasticdump/package.json');
    dirs.push(join(dirname(pkg), 'bin'));
  } catch {
    // not installed as a package here: PATH
  }
  return findExecutable(['elasticdump'], dirs, env) ?? 'elasticdump';
}

/** The variables that carry credentials (and a CA bundle) to elasticdump. */
export function elasticdumpEnv(
  target: DumpTarget,
  direction: Direction,
  parent: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const env: Record<string, string> = {};
  const user = esUsername(target);
  // elasticdump sends these only when both are set.
  if (user !== undefined && target.password !== undefined) {
    const d = direction.toUpperCase();
    env[`ELASTICDUMP_${d}_USERNAME`] = user;
    env[`ELASTICDUMP_${d}_PASSWORD`] = target.password;
  }
  if (parent.NODE_EXTRA_CA_CERTS) env.NODE_EXTRA_CA_CERTS = parent.NODE_EXTRA_CA_CERTS;
  return env;
}

function commonArgs(target: DumpTarget, server: EsServer, type: EsType): string[] {
  const args = [`--type=${type}`, `--limit=${target.esLimit ?? DEFAULT_ES_LIMIT}`];
  if (server.distribution === 'opensearch') {
    args.push(`--force-os-version=${OPENSEARCH_COMPAT_VERSION}`);
  }
  return args;
}

/**
 * One dump run (pure): `type` of `pattern` (undefined for cluster-level
 * types) to stdout.
 */
export function elasticdumpDumpCommand(
  file: string,
  target: DumpTarget,
  server: EsServer,
  type: EsType,
  pattern: string | undefined,
): ToolCommand {
  const input = pattern === undefined ? baseUrl(target) : `${baseUrl(target)}/${pattern}`;
  return {
    file,
    args: [
      `--input=${input}`,
      '--output=$',
      ...commonArgs(target, server, type),
      ...target.extraArgs,
    ],
    env: elasticdumpEnv(target, 'input'),
  };
}

/**
 * One restore run (pure): `type` from stdin into the server (settings: into
 * `index`, which they create). Not `--quiet`: elasticdump does not fail on a
 * write error in its last batch, so the caller checks its "Total Writes"
 * line (see expectedWrites).
 */
export function elasticdumpRestoreCommand(
  file: string,
  target: DumpTarget,
  server: EsServer,
  type: EsType,
  index?: string,
): ToolCommand {
  const output = index === undefined ? baseUrl(target) : `${baseUrl(target)}/${index}`;
  const args = ['--input=$', `--output=${output}`, ...commonArgs(target, server, type)];
  if (type === 'data') args.push('--ignore-es-write-errors=false');
  return { file, args, env: elasticdumpEnv(target, 'output') };
}

/** A DumpFailedError whose tail cannot carry the password, whatever the tool printed. */
export function scrubbed(err: unknown, target: DumpTarget): unknown {
  const secret = target.password;
  if (!(err instanceof DumpFailedError) || !secret) return err;
  const variants = [secret, encodeURIComponent(secret)];
  if (!variants.some((v) => err.stderrTail.includes(v))) return err;
  let tail = err.stderrTail;
  for (const v of variants) tail = tail.split(v).join('***');
  return new DumpFailedError(err.tool, err.toolExitCode, tail, err.signal);
}

const clientVersions = new Map<string, Promise<string>>();
export function elasticdumpVersion(file: string, ctx: EngineContext): Promise<string> {
  let v = clientVersions.get(file);
  if (!v) {
    v = runTool({ file, args: ['--version'], env: {} }, ctx).then((out) => out.trim());
    v.catch(() => clientVersions.delete(file));
    clientVersions.set(file, v);
  }
  return v;
}

/** Runs through `ctx` while remembering the running child, so a dump can be stopped. */
export class Runner {
  private child: ChildProcess | undefined;
  private stopped: NodeJS.Signals | undefined;
  readonly ctx: EngineContext;

  constructor(ctx: EngineContext) {
    const spawn: SpawnFn = ctx.spawn ?? defaultSpawn;
    this.ctx = {
      ...ctx,
      spawn: (file, args, options) => {
        if (this.stopped) throw new DumpFailedError('elasticdump', null, 'stopped', this.stopped);
        const child = spawn(file, args, options);
        this.child = child;
        return child;
      },
    };
  }

  kill(signal: NodeJS.Signals): void {
    this.stopped = signal;
    this.child?.kill(signal);
  }
}
