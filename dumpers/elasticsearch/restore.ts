/**
 * Restoring an Elasticsearch archive (layout: ./archive.ts): its entries are
 * replayed in archive order, each with one elasticdump reading it from
 * stdin; the documents, which may span many entries, go to one elasticdump.
 *
 * elasticdump does not fail on a write error in its last batch (the error
 * is recorded, then never looked at), so every run's "Total Writes" is
 * checked against what the entry holds, and the mappings are read back.
 * The archive's indices must not exist on the target: settings create them,
 * and elasticdump would otherwise merge into what is there without a word.
 */
import { once } from 'node:events';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import tar from 'tar-stream';
import { OperationError, UserError } from '../../src/errors.js';
import { runTool } from '../process.js';
import type { DumpTarget, RestoreContext } from '../types.js';
import {
  ARCHIVE_LAYOUT_VERSION,
  METADATA_ENTRY,
  classifyEntry,
  type ArchiveMetadata,
  type EsType,
} from './archive.js';
import { mappingFields, parseDumpedJson } from './elasticdump-output.js';
import { countLines, expectedWrites, parseTotalWrites } from './write-counts.js';
import { Runner, STDERR_FAILURE, elasticdumpPath, elasticdumpRestoreCommand } from './commands.js';
import { describeServer, esGet, esServer, type EsServer } from './http.js';

/** Index names per `GET /<names>/_mapping` (URL length). */
const NAMES_PER_REQUEST = 50;

async function readEntry(entry: AsyncIterable<unknown>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const p of entry) parts.push(p as Buffer);
  return Buffer.concat(parts);
}

/** Writes to a tool's stdin, waiting for drain, or failing when the tool does. */
async function feed(stdin: Writable, buf: Buffer, failed: Promise<never>): Promise<void> {
  if (!stdin.write(buf)) await Promise.race([once(stdin, 'drain'), failed]);
}

function checkWrites(what: string, stdout: string, expected: number | undefined): void {
  if (expected === undefined) return;
  const written = parseTotalWrites(stdout);
  if (written !== expected) {
    throw new OperationError(
      `elasticdump restored ${written ?? 'an unknown number of'} of ${expected} objects of ${what}: ` +
        (stdout.trim().split('\n').slice(-3).join(' ') || 'no output'),
    );
  }
}

/** The archive's indices that already exist on the target. */
async function existingIndices(
  target: DumpTarget,
  indices: string[],
  signal: AbortSignal,
): Promise<string[]> {
  const r = await esGet(target, '/_cat/indices?format=json&h=index&expand_wildcards=all', signal);
  if (r.status !== 200 || !Array.isArray(r.body)) {
    throw new OperationError(`cannot list the target's indices (HTTP ${r.status})`);
  }
  const there = new Set((r.body as { index?: string }[]).map((x) => x.index));
  return indices.filter((i) => there.has(i));
}

/** Every field the archive maps is mapped on the target. */
async function checkMappings(
  target: DumpTarget,
  archived: Map<string, string[]>,
  signal: AbortSignal,
): Promise<void> {
  const names = [...archived.keys()];
  for (let i = 0; i < names.length; i += NAMES_PER_REQUEST) {
    const batch = names.slice(i, i + NAMES_PER_REQUEST);
    const r = await esGet(target, `/${batch.join(',')}/_mapping`, signal);
    if (r.status !== 200) throw new OperationError(`reading back mappings: HTTP ${r.status}`);
    const now = mappingFields(r.body);
    for (const index of batch) {
      const have = new Set(now.get(index) ?? []);
      const missing = (archived.get(index) ?? []).filter((f) => !have.has(f));
      if (missing.length > 0) {
        throw new OperationError(
          `mapping of ${index} not restored: no ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', …' : ''}`,
        );
      }
    }
  }
}

export async function restoreArchive(
  target: DumpTarget,
  database: string,
  input: Readable,
  ctx: RestoreContext,
): Promise<void> {
  if (ctx.format !== undefined && ctx.format !== 'tar') {
    throw new UserError(`elasticsearch: cannot restore a ${ctx.format} dump (expected tar)`);
  }
  const server: EsServer = await esServer(target, ctx.signal);
  const file = elasticdumpPath();
  const log = ctx.log;
  const runner = new Runner(ctx);
  const extract = tar.extract();
  input.on('error', (err) => extract.destroy(err));
  input.pipe(extract);

  const restoreOne = async (type: EsType, body: Buffer, index?: string) => {
    const cmd = elasticdumpRestoreCommand(file, target, server, type, index);
    log.debug('elasticdump', { args: cmd.args });
    const text = body.toString('utf8');
    const out = await runTool(cmd, runner.ctx, text, {
      tool: 'elasticdump',
      stderrFailure: STDERR_FAILURE,
    });
    checkWrites(index ? `${type} of ${index}` : type, out, expectedWrites(type, text));
  };

  let meta: ArchiveMetadata | undefined;
  let data:
    { stdin: PassThrough; done: Promise<string>; failed: Promise<never>; docs: number } | undefined;
  try {
    for await (const entry of extract) {
      const name = entry.header.name;
      const kind = entry.header.type === 'file' ? classifyEntry(name) : undefined;
      if (!kind) {
        log.warn('skipping an unknown archive entry', { entry: name });
        entry.resume();
        continue;
      }
      if (!meta && kind.kind !== 'metadata') {
        throw new OperationError(
          `not a snapkeeper Elasticsearch archive: ${METADATA_ENTRY} is not its first entry`,
        );
      }
      if (data && kind.kind !== 'data') {
        throw new OperationError(`archive out of order: ${name} after the documents`);
      }
      switch (kind.kind) {
        case 'metadata': {
          const m = JSON.parse((await readEntry(entry)).toString('utf8')) as ArchiveMetadata;
          if (m.kind !== 'snapkeeper-elasticsearch' || !(m.layout <= ARCHIVE_LAYOUT_VERSION)) {
            throw new OperationError(
              `archive layout ${m.layout} is not one this snapkeeper reads (up to ${ARCHIVE_LAYOUT_VERSION})`,
            );
          }
          const clash = await existingIndices(target, m.indices, ctx.signal);
          if (clash.length > 0) {
            throw new UserError(
              `the target already has ${clash.length} of the backup's indices (${clash.slice(0, 5).join(', ')}${clash.length > 5 ? ', …' : ''}): delete them first, a restore creates its indices`,
            );
          }
          meta = m;
          log.info('restoring Elasticsearch archive', {
            pattern: m.pattern,
            indices: m.indices.length,
            from: m.server,
            into: describeServer(server),
            database,
          });
          break;
        }
        case 'settings':
          // Creates the index, its analyzers included.
          await restoreOne('settings', await readEntry(entry), kind.index);
          break;
        case 'mapping': {
          const body = await readEntry(entry);
          await restoreOne('mapping', body);
          await checkMappings(
            target,
            mappingFields(parseDumpedJson(body.toString('utf8'), 'mapping')),
            ctx.signal,
          );
          break;
        }
        case 'data': {
          if (!data) {
            const stdin = new PassThrough();
            const cmd = elasticdumpRestoreCommand(file, target, server, 'data');
            log.debug('elasticdump', { args: cmd.args });
            const done = runTool(cmd, runner.ctx, stdin, {
              tool: 'elasticdump',
              stderrFailure: STDERR_FAILURE,
            });
            done.catch(() => undefined);
            const failed = done.then(() => {
              throw new OperationError('elasticdump stopped reading documents before their end');
            });
            failed.catch(() => undefined);
            data = { stdin, done, failed, docs: 0 };
          }
          for await (const chunk of entry) {
            data.docs += countLines(chunk as Buffer);
            await feed(data.stdin, chunk as Buffer, data.failed);
          }
          break;
        }
        default:
          await restoreOne(kind.kind, await readEntry(entry));
      }
    }
    if (!meta) throw new OperationError('empty archive: no Elasticsearch dump in it');
    if (data) {
      data.stdin.end();
      checkWrites('documents', await data.done, data.docs);
      log.info('documents restored', { documents: data.docs });
    }
  } catch (err) {
    if (data) {
      runner.kill('SIGTERM');
      data.stdin.destroy();
      await data.done.catch(() => undefined);
    }
    extract.destroy();
    throw err;
  }
}
