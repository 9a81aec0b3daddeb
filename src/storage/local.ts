import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { constants } from 'node:fs';
import {
  copyFile,
  link,
  mkdir,
  readdir,
  rename,
  rm,
  rmdir,
  stat,
  writeFile,
} from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { OperationError, describeError } from '../errors.js';
import { AlreadyExistsError, NotFoundError, checkKey } from './errors.js';
import type { IncompleteUpload, ObjectInfo, PutOptions, Storage, UploadOptions } from './types.js';

/**
 * Temporary files are written beside their final name (same directory, so the
 * rename is atomic) and carry this prefix; listings hide them, so a crashed
 * upload never looks like an object.
 */
const TEMP_PREFIX = '.snapkeeper-partial-';

/** A directory as storage: key `a/b/c` is the file `<root>/a/b/c`. */
export class LocalStorage implements Storage {
  readonly root: string;
  readonly description: string;

  constructor(root: string) {
    this.root = resolve(root);
    // Ends with a separator, like `s3://bucket/prefix/`, so `description + key` reads as a path.
    this.description = this.root.endsWith(sep) ? this.root : this.root + sep;
  }

  private path(key: string): string {
    return join(this.root, ...checkKey(key).split('/'));
  }

  async upload(
    key: string,
    body: Readable,
    options: UploadOptions = {},
  ): Promise<{ bytes: number }> {
    let bytes = 0;
    const count = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    await this.atomically(
      key,
      (tmp) =>
        pipeline(body, count, createWriteStream(tmp, { flags: 'wx', mode: 0o600 }), {
          signal: options.signal,
        }),
      options.exclusive ?? false,
    );
    return { bytes };
  }

  async put(key: string, data: string | Uint8Array, options: PutOptions = {}): Promise<void> {
    await this.atomically(
      key,
      (tmp) => writeFile(tmp, data, { flag: 'wx', mode: 0o600 }),
      options.exclusive ?? false,
    );
  }

  /**
   * Writes through `write(tmp)`, then moves it onto the key's file; neither the
   * temp file nor the directories created for it survive a failure (an
   * interrupted backup leaves no empty `<timestamp>/` directory). Exclusive: a hard link instead of the
   * rename, which fails (EEXIST) rather than replace an existing file, so of
   * two writers of one key exactly one wins, and the file appears complete.
   */
  private async atomically(
    key: string,
    write: (tmp: string) => Promise<void>,
    exclusive: boolean,
  ): Promise<void> {
    const target = this.path(key);
    const dir = dirname(target);
    // The first directory mkdir created, when it created any.
    const made = await this.wrap(`create ${dir}`, () => mkdir(dir, { recursive: true }));
    const tmp = join(dir, `${TEMP_PREFIX}${randomBytes(6).toString('hex')}`);
    try {
      await write(tmp);
      if (exclusive) await placeExclusively(tmp, target);
      else await rename(tmp, target);
    } catch (err) {
      await rm(tmp, { force: true });
      if (made !== undefined) await removeEmptyDirs(dir, made);
      if ((err as NodeJS.ErrnoException).code === 'EEXIST')
        throw new AlreadyExistsError(key, this.description);
      throw new OperationError(`write ${target}: ${describeError(err)}`, { cause: err });
    } finally {
      if (exclusive) await rm(tmp, { force: true });
    }
  }

  async get(key: string, signal?: AbortSignal): Promise<Readable> {
    const file = this.path(key);
    try {
      const s = await stat(file);
      if (!s.isFile()) throw new NotFoundError(key, this.description);
    } catch (err) {
      // ENOTDIR: a path through a file (`a.sql.gz/manifest.json`) is not there either.
      if (
        err instanceof NotFoundError ||
        isNoEnt(err) ||
        (err as NodeJS.ErrnoException).code === 'ENOTDIR'
      )
        throw new NotFoundError(key, this.description);
      throw new OperationError(`read ${file}: ${describeError(err)}`, { cause: err });
    }
    return createReadStream(file, { signal });
  }

  /**
   * Like an S3 prefix listing: `prefix` is a string prefix of the key, not a
   * directory, so the walk starts at the deepest directory the prefix names.
   */
  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    const slash = prefix.lastIndexOf('/');
    const start = slash < 0 ? this.root : this.path(prefix.slice(0, slash));
    for await (const file of walk(start)) {
      const key = relative(this.root, file).split(sep).join('/');
      if (!key.startsWith(prefix)) continue;
      const s = await stat(file).catch(() => undefined);
      if (s?.isFile()) yield { key, size: s.size, lastModified: s.mtime };
    }
  }

  /** Temporary files of uploads that never finished (the process was killed); `started` is their last write. */
  async *listIncomplete(prefix: string): AsyncIterable<IncompleteUpload> {
    const slash = prefix.lastIndexOf('/');
    const start = slash < 0 ? this.root : this.path(prefix.slice(0, slash));
    for await (const file of walk(start, true)) {
      if (!basename(file).startsWith(TEMP_PREFIX)) continue;
      const key = relative(this.root, file).split(sep).join('/');
      if (!key.startsWith(prefix)) continue;
      const s = await stat(file).catch(() => undefined);
      if (s?.isFile()) yield { key, id: file, started: s.mtime };
    }
  }

  async abortIncomplete(upload: IncompleteUpload): Promise<void> {
    const file = this.path(upload.key);
    if (!basename(file).startsWith(TEMP_PREFIX)) throw new Error(`not a temporary file: ${file}`);
    await this.wrap(`delete ${file}`, () => rm(file, { force: true }));
    await this.removeEmptyParents([dirname(file)]);
  }

  /** Removes the files, then the directories the removal left empty (never the root). */
  async delete(keys: readonly string[]): Promise<void> {
    const dirs = new Set<string>();
    for (const key of keys) {
      const file = this.path(key);
      await this.wrap(`delete ${file}`, () => rm(file, { force: true }));
      dirs.add(dirname(file));
    }
    await this.removeEmptyParents(dirs);
  }

  private async removeEmptyParents(dirs: Iterable<string>): Promise<void> {
    for (let dir of dirs) {
      while (dir !== this.root && dir.startsWith(this.root + sep)) {
        try {
          await rmdir(dir);
        } catch {
          break; // not empty (or gone): stop climbing
        }
        dir = dirname(dir);
      }
    }
  }

  private async wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new OperationError(`${what}: ${describeError(err)}`, { cause: err });
    }
  }
}

/**
 * `tmp` appears at `target` unless something is there already (EEXIST). A
 * hard link does it atomically; where the file system has none (some
 * network and FUSE mounts), an exclusive copy is still exclusive, though a
 * reader could then see the file before it is complete.
 */
async function placeExclusively(tmp: string, target: string): Promise<void> {
  try {
    await link(tmp, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS')
      throw err;
    await copyFile(tmp, target, constants.COPYFILE_EXCL);
  }
}

async function* walk(dir: string, withTemp = false): AsyncIterable<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isNoEnt(err) || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
    throw new OperationError(`list ${dir}: ${describeError(err)}`, { cause: err });
  }
  for (const e of entries) {
    if (e.name.startsWith(TEMP_PREFIX) && !withTemp) continue;
    const full = join(dir, e.name);
    if (e.isDirectory()) yield* walk(full, withTemp);
    else if (e.isFile()) yield full;
  }
}

/** Removes `dir` and its parents up to `top` (included) while they are empty. */
async function removeEmptyDirs(dir: string, top: string): Promise<void> {
  for (let d = dir; d === top || d.startsWith(top + sep); d = dirname(d)) {
    try {
      await rmdir(d);
    } catch {
      return; // not empty (something else was written meanwhile), or gone
    }
    if (d === top) return;
  }
}

function isNoEnt(err: unknown): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}
