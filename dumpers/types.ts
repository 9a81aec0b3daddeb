/**
 * The contract between the dumper (src/dump, src/pipeline), the restore path
 * (src/cli/restore.ts) and the engines in this folder.
 *
 * An engine knows how to call its tools: it builds argv and environment
 * (pure functions, unit-tested), starts the tool, and hands back the dump as
 * a byte stream plus a completion promise. It never compresses, encrypts or
 * stores: that is the pipeline's job. A dump does not have to come from a
 * single process — the Elasticsearch engine produces a tar stream from node
 * code — so the handle is a stream and a promise, not a ChildProcess.
 */
import type { ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import type { Logger } from '../src/log.js';
import type { EngineType } from '../src/manifest.js';

export type { EngineType };

/** Where and what to dump. Built from a URL (src/dburl.ts) or the dumper's environment (src/dump/config.ts). */
export interface DumpTarget {
  host: string;
  port: number;
  username?: string;
  /** Only ever handed to a tool through its environment or a 0600 file, never argv. */
  password?: string;
  /** Databases to dump, one object each; `'*'` for one all-databases dump. */
  databases: string[] | '*';
  /** Client major version override (the `version` annotation), e.g. `16`. */
  clientVersion?: string;
  /** Extra argv for the dump tool, appended after snapkeeper's own options. */
  extraArgs: string[];
  /** Elasticsearch page size. */
  esLimit?: number;
  /** Connect with TLS (Elasticsearch `https://`). */
  tls?: boolean;
}

/**
 * A tool invocation as data: what the pure argv/env builders return. Secrets
 * go in `env` only; `args` is safe to log.
 */
export interface ToolCommand {
  file: string;
  args: string[];
  env: Record<string, string>;
}

export interface SpawnOptions {
  env: Record<string, string>;
  signal?: AbortSignal;
}

/** The subset of child_process.spawn an engine uses; tests pass a recording one. */
export type SpawnFn = (
  file: string,
  args: readonly string[],
  options: SpawnOptions,
) => ChildProcess;

export interface EngineContext {
  signal: AbortSignal;
  log: Logger;
  spawn?: SpawnFn;
}

export interface DumpHandle {
  /** The plain (uncompressed) dump. */
  stdout: Readable;
  /**
   * Settles when the dump is over: resolves when the tool exited 0 and
   * reported no error; rejects with DumpFailedError (exit code, stderr tail)
   * otherwise.
   */
  done: Promise<void>;
  /** Stops the dump (SIGTERM by default). */
  kill(signal?: NodeJS.Signals): void;
}

/** What a dump of one database produces: manifest `format`, and the key's extension before `.gz`. */
export interface DumpOutput {
  /** `sql` (plain SQL), `custom` (pg_dump -Fc), `tar` (Elasticsearch archive). */
  format: string;
  /** `sql`, `dump`, `tar`. */
  extension: string;
}

export interface RestoreContext extends EngineContext {
  /** The manifest object's `format`; `sql` when absent. */
  format?: string;
}

export interface Engine {
  readonly type: EngineType;
  readonly defaultPort: number;

  /** Format and extension of the dump `dump(target, …)` will produce (extra args may change it). */
  output(target: DumpTarget): DumpOutput;

  /** The server's version, as the server reports it (e.g. `15.4`, `10.11.6-MariaDB`). */
  serverVersion(target: DumpTarget, ctx: EngineContext): Promise<string>;

  /** The dump tool and its version, for the manifest. */
  client(target: DumpTarget, ctx: EngineContext): Promise<{ tool: string; version: string }>;

  /**
   * What `database` (or `'*'`: every database) weighs on the server, in
   * bytes: an estimate of its dump's size, for a percentage and an ETA.
   */
  sizeEstimate?(target: DumpTarget, database: string, ctx: EngineContext): Promise<number>;

  /** Starts dumping `database` (or `'*'`, all databases). Never throws: failures reject `done`. */
  dump(target: DumpTarget, database: string, ctx: EngineContext): DumpHandle;

  /**
   * What `database` on the target already holds that a restore would collide
   * with (tables, views, …): how many, and a few names. None when it does not
   * exist or is empty, and for `'*'`. Restore refuses a non-empty target up
   * front. Engines without it check inside `restore`.
   */
  restoreConflicts?(
    target: DumpTarget,
    database: string,
    ctx: EngineContext,
  ): Promise<{ count: number; names: string[] }>;

  /**
   * True when a restore into `database` that fails or is interrupted leaves
   * the target as it was: it runs in one transaction, or into a database it
   * creates (and drops again on failure). Then `restore --to` checks the
   * sha256 while streaming and fails the input on a mismatch, which rolls
   * the restore back; otherwise it checks the whole object first. Absent:
   * false.
   */
  restoreIsAtomic?(target: DumpTarget, database: string, ctx: EngineContext): Promise<boolean>;

  /**
   * Restores a plain (decompressed, decrypted) dump into `database` on the
   * target, creating the database when it does not exist (for `'*'`: into
   * the server, the dump creates its databases), and dropping it again when
   * the restore fails or is interrupted. Rejects with DumpFailedError
   * carrying the tool's stderr tail.
   */
  restore(
    target: DumpTarget,
    database: string,
    input: Readable,
    ctx: RestoreContext,
  ): Promise<void>;
}
