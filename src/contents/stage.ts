/**
 * The counting stage of the backup stream: a pass-through between the dump
 * tool and gzip that feeds each chunk to the scanner of the dump's format
 * and, at the end, says what the database held. It never fails the backup:
 * a scanner that throws stops counting, and the manifest says why.
 */
import { Transform, pipeline, type TransformCallback } from 'node:stream';
import type { DumpHandle } from '../../dumpers/types.js';
import { describeError } from '../errors.js';
import type { EngineType } from '../manifest.js';
import { ArchiveScanner } from './archive-scan.js';
import { SqlScanner } from './sql-scan.js';
import type { DatabaseCounts, DatabaseContents } from './types.js';

interface Scanner {
  push(chunk: Buffer): void;
  end(): DatabaseCounts[];
}

/** Why a format is not counted at backup time (shown by describe and restore-test). */
export const CUSTOM_FORMAT_UNCOUNTED =
  'pg_dump custom/tar archive: pg_dump compresses its data blocks, so rows and schema ' +
  'objects are not counted at backup time; restore-test counts them from the archive ' +
  '(pg_restore) and compares them with what it restored';

export class ContentsCounter extends Transform {
  private scanner: Scanner | undefined;
  private uncounted: string | undefined;
  private counts: DatabaseCounts[] | undefined;

  constructor(engine: EngineType, format: string, database: string) {
    super();
    if (engine === 'elasticsearch') this.scanner = new ArchiveScanner(database);
    else if (format !== 'sql') this.uncounted = CUSTOM_FORMAT_UNCOUNTED;
    else this.scanner = new SqlScanner(engine === 'postgresql' ? 'postgresql' : 'mysql', database);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    if (this.scanner) {
      try {
        this.scanner.push(chunk);
      } catch (err) {
        this.stop(err);
      }
    }
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    if (this.scanner) {
      try {
        this.counts = this.scanner.end();
      } catch (err) {
        this.stop(err);
      }
    }
    done();
  }

  private stop(err: unknown): void {
    this.scanner = undefined;
    this.uncounted = `counting failed: ${describeError(err)}`;
  }

  /** What the stream held, for the manifest object `key` (after the stream ended). */
  contents(key: string, database: string): DatabaseContents[] {
    if (this.counts) return this.counts.map((c) => ({ key, ...c }));
    return [{ key, database, uncounted: this.uncounted ?? 'the stream did not end' }];
  }
}

/**
 * The dump handle whose stdout has passed through `counter`. Joined with
 * pipeline(), not pipe(): when the backup stream stops (an interrupt, a
 * failed upload) and destroys the counter, the dump's own stdout is
 * destroyed too, as it was before the counter sat between them, so the
 * dump's `done` settles instead of waiting on a stream nobody reads.
 */
export function countedDump(dump: DumpHandle, counter: ContentsCounter): DumpHandle {
  pipeline(dump.stdout, counter, () => undefined);
  return { stdout: counter, done: dump.done, kill: (s) => dump.kill(s) };
}
