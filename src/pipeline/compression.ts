/**
 * Compression of the dump stream: gzip (the default, level 6) or zstd,
 * each with a level. `parseCompression` is the one reader of the
 * `gzip | gzip:<1-9> | zstd | zstd:<1-19>` notation (the `--compression`
 * flag, the `snapkeeper.io/compression` annotation, the chart default and
 * the dumper's SNAPKEEPER_COMPRESSION).
 *
 * zstd runs as the `zstd` program (multi-threaded with -T), not in node:
 * node's own zstd (zlib.createZstdCompress) exists only from Node 22.15 /
 * 23.8 on and is single-threaded, while snapkeeper runs on Node ≥ 20.18. The
 * program is a distribution package everywhere (Debian `zstd`, EL `zstd`),
 * its output is by definition what `zstd -d` / `unzstd` open, and it keeps
 * a native add-on out of the images.
 */
import { Duplex } from 'node:stream';
import { spawn } from 'node:child_process';
import { createGunzip } from 'node:zlib';
import { findExecutable } from '../../dumpers/executables.js';
import { TailBuffer } from '../../dumpers/process.js';
import { OperationError } from '../errors.js';
import { createParallelGzip } from './gzip.js';

export const compressionTypes = ['gzip', 'zstd'] as const;
export type CompressionType = (typeof compressionTypes)[number];

export interface Compression {
  type: CompressionType;
  level: number;
}

export const DEFAULT_COMPRESSION: Compression = { type: 'gzip', level: 6 };
export const COMPRESSION_ACCEPTED = 'gzip, gzip:<1-9>, zstd or zstd:<1-19>';

const LEVELS: Record<CompressionType, { min: number; max: number; default: number }> = {
  gzip: { min: 1, max: 9, default: 6 },
  zstd: { min: 1, max: 19, default: 3 },
};

/** `gzip`, `gzip:9`, `zstd`, `zstd:19` (case and surrounding blanks ignored); never throws. */
export function parseCompression(
  value: string,
): { ok: true; compression: Compression } | { ok: false; reason: string } {
  const m = /^(gzip|zstd)(?::(\d{1,2}))?$/.exec(value.trim().toLowerCase());
  if (!m) return { ok: false, reason: 'not a compression' };
  const type = m[1] as CompressionType;
  const range = LEVELS[type];
  if (m[2] === undefined) return { ok: true, compression: { type, level: range.default } };
  const level = Number(m[2]);
  if (level < range.min || level > range.max)
    return { ok: false, reason: `${type} levels are ${range.min} to ${range.max}` };
  return { ok: true, compression: { type, level } };
}

/** The notation back: `gzip:6`, `zstd:3`. */
export function formatCompression(c: Compression): string {
  return `${c.type}:${c.level}`;
}

/** The extension a stored object gets for it: `gz` or `zst`. */
export function compressionExtension(type: CompressionType): string {
  return type === 'zstd' ? 'zst' : 'gz';
}

export function compressionContentType(type: CompressionType): string {
  return type === 'zstd' ? 'application/zstd' : 'application/gzip';
}

/** The `zstd` program, or a clear error saying it is needed. */
export function zstdProgram(env: NodeJS.ProcessEnv = process.env): string {
  const found = findExecutable(['zstd'], [], env);
  if (!found)
    throw new OperationError(
      'zstd compression needs the zstd program on PATH (Debian/Ubuntu: apt-get install zstd)',
    );
  return found;
}

/**
 * A Transform-like Duplex that compresses on `threads` cores: gzip in
 * parallel blocks (./gzip.ts), zstd with as many worker threads.
 */
export function compressStream(c: Compression, threads = 1): Duplex {
  if (c.type === 'zstd')
    return programStream(
      zstdProgram(),
      ['-q', '-c', `-${c.level}`, `-T${Math.max(1, threads)}`, '--no-progress'],
      'zstd',
    );
  return createParallelGzip({ level: c.level, threads });
}

/**
 * gunzip's output pieces: 64 KiB, as a pipe read takes, rather than zlib's
 * 16 KiB default, so a restore writes a quarter as many pieces to psql.
 */
export const GUNZIP_CHUNK_BYTES = 64 * 1024;

/** A Transform-like Duplex that decompresses what `compressStream` wrote. */
export function decompressStream(type: CompressionType): Duplex {
  if (type === 'zstd') return programStream(zstdProgram(), ['-d', '-q', '-c'], 'zstd -d');
  return createGunzip({ chunkSize: GUNZIP_CHUNK_BYTES });
}

/** A compression program failed (its exit status and stderr tail). */
export class ProgramStreamError extends Error {
  constructor(
    readonly program: string,
    message: string,
  ) {
    super(message);
    this.name = 'ProgramStreamError';
  }
}

/**
 * A program as a Transform-like Duplex: what is written goes to its stdin,
 * its stdout is what is read. The readable side ends only when the program
 * exited 0; any other exit (or a signal) fails the stream with its stderr
 * tail. Destroying the stream kills the program.
 */
export function programStream(file: string, args: string[], name: string): Duplex {
  const child = spawn(file, args, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH ?? '' },
  });
  const tail = new TailBuffer();
  child.stderr.on('data', (c: Buffer) => tail.push(c));
  let gone = false;
  const duplex = new Duplex({
    write(chunk: Buffer, _enc, done) {
      child.stdin.write(chunk, (err) => done(err ?? null));
    },
    final(done) {
      child.stdin.end(() => done());
    },
    read() {
      child.stdout.resume();
    },
    destroy(err, done) {
      if (!gone) child.kill('SIGKILL');
      done(err);
    },
  });
  child.stdout.on('data', (c: Buffer) => {
    if (!duplex.push(c)) child.stdout.pause();
  });
  // A program that stopped reading (it failed) is reported by its exit status.
  child.stdin.on('error', () => undefined);
  child.once('error', (err: NodeJS.ErrnoException) => {
    gone = true;
    duplex.destroy(
      new ProgramStreamError(
        name,
        err.code === 'ENOENT' ? `${name}: ${file} not found` : `${name}: ${err.message}`,
      ),
    );
  });
  child.once('close', (code, signal) => {
    gone = true;
    if (code === 0) duplex.push(null);
    else if (!duplex.destroyed)
      duplex.destroy(
        new ProgramStreamError(
          name,
          `${name} failed (${signal ? `signal ${signal}` : `exit ${code}`})${tail.toString() ? `: ${tail.toString()}` : ''}`,
        ),
      );
  });
  return duplex;
}
