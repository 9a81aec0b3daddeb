/**
 * Elasticsearch and OpenSearch: elasticdump once per type, the outputs
 * streamed into one tar archive (layout: ./elasticsearch/archive.ts);
 * restore replays the archive (./elasticsearch/restore.ts).
 *
 * A database is an index pattern (an index, an alias, `logs-*`); `*` is
 * every open index but the dot-prefixed system ones, and only a `*` dump
 * carries the cluster-level objects (templates, policies), so restoring one
 * index never overwrites another's templates. The `analyzer` type is not
 * dumped on its own: it is the same `GET _settings` as `settings`, whose
 * restore creates each index with its analysis.
 */
import { PassThrough } from 'node:stream';
import tar from 'tar-stream';
import { DumpFailedError, OperationError, UserError } from '../src/errors.js';
import {
  ARCHIVE_LAYOUT_VERSION,
  CLUSTER_TYPES,
  DEFAULT_DATA_CHUNK_BYTES,
  METADATA_ENTRY,
  dataEntryName,
  settingsEntryName,
  type ArchiveMetadata,
  type ClusterType,
  type EsType,
} from './elasticsearch/archive.js';
import {
  filterAliases,
  hasClusterObjects,
  splitSettings,
} from './elasticsearch/elasticdump-output.js';
import { indexPatternFor, patternProblem } from './elasticsearch/indices.js';
import { LineChunker } from './elasticsearch/line-chunker.js';
import {
  MAX_SMALL_OUTPUT_BYTES,
  Runner,
  STDERR_FAILURE,
  elasticdumpDumpCommand,
  elasticdumpPath,
  elasticdumpVersion,
  scrubbed,
} from './elasticsearch/commands.js';
import {
  clusterListPath,
  describeServer,
  esGet,
  esServer,
  listingHasObjects,
  type EsServer,
} from './elasticsearch/http.js';
import { restoreArchive } from './elasticsearch/restore.js';
import { runTool, startDump } from './process.js';
import type { DumpHandle, DumpTarget, Engine, ToolCommand } from './types.js';

export {
  DEFAULT_ES_LIMIT,
  OPENSEARCH_COMPAT_VERSION,
  elasticdumpDumpCommand,
  elasticdumpEnv,
  elasticdumpPath,
  elasticdumpRestoreCommand,
} from './elasticsearch/commands.js';

/** Adds one entry and waits until the archive has taken it (backpressure). */
function addEntry(pack: tar.Pack, name: string, body: Buffer | string): Promise<void> {
  return new Promise((resolve, reject) => {
    pack.entry({ name, mode: 0o644, mtime: new Date() }, body, (err) =>
      err ? reject(err) : resolve(),
    );
  });
}

interface DumpPlan {
  target: DumpTarget;
  database: string;
  file: string;
  server: EsServer;
  client: string;
  chunkBytes: number;
}

async function runSmall(cmd: ToolCommand, runner: Runner): Promise<string> {
  const out = await runTool(cmd, runner.ctx, undefined, {
    tool: 'elasticdump',
    stderrFailure: STDERR_FAILURE,
  });
  if (out.length > MAX_SMALL_OUTPUT_BYTES) {
    throw new OperationError(`elasticdump ${cmd.args.join(' ')}: output over 256 MiB`);
  }
  return out;
}

/** Writes the whole archive into `pack`; rejects (and writes no end) on any failure. */
async function writeArchive(plan: DumpPlan, pack: tar.Pack, runner: Runner): Promise<void> {
  const { target, database, file, server } = plan;
  const log = runner.ctx.log;
  const pattern = indexPatternFor(database);
  const run = (type: EsType, p: string | undefined) => {
    const cmd = elasticdumpDumpCommand(file, target, server, type, p);
    log.debug('elasticdump', { args: cmd.args });
    return runSmall(cmd, runner);
  };

  // The small outputs first, held in memory: the index list goes in the metadata entry.
  const settings = splitSettings(await run('settings', pattern), pattern);
  const mapping = await run('mapping', pattern);
  const aliases = filterAliases(await run('alias', pattern));
  const cluster: [ClusterType, string][] = [];
  if (database === '*') {
    for (const type of CLUSTER_TYPES) {
      const path = clusterListPath(type, server);
      if (!path) continue;
      // elasticdump asks for `<type>/*`, which is a 404 when there are none: look first.
      const listing = await esGet(target, path, runner.ctx.signal);
      if (listing.status !== 200 || !listingHasObjects(listing.body)) {
        log.debug('nothing to dump', { type, status: listing.status });
        continue;
      }
      const out = await run(type, undefined);
      if (hasClusterObjects(out, type)) cluster.push([type, out]);
    }
  }

  const types: EsType[] = [
    ...(settings.size > 0 ? (['settings', 'mapping'] as const) : []),
    ...(aliases ? (['alias'] as const) : []),
    ...cluster.map(([t]) => t),
    'data',
  ];
  const metadata: ArchiveMetadata = {
    kind: 'snapkeeper-elasticsearch',
    layout: ARCHIVE_LAYOUT_VERSION,
    pattern,
    indices: [...settings.keys()],
    server: describeServer(server),
    client: plan.client,
    types,
    createdAt: new Date().toISOString(),
  };
  await addEntry(pack, METADATA_ENTRY, JSON.stringify(metadata, null, 2) + '\n');
  for (const [index, text] of settings) await addEntry(pack, settingsEntryName(index), text);
  if (settings.size > 0) await addEntry(pack, 'mapping.json', mapping);
  if (aliases) await addEntry(pack, 'alias.json', aliases);
  for (const [type, out] of cluster) await addEntry(pack, `${type}.json`, out);
  if (settings.size === 0) return; // the pattern matched no index: nothing more to read

  // Documents: streamed, cut into bounded entries at line ends.
  const cmd = elasticdumpDumpCommand(file, target, server, 'data', pattern);
  log.debug('elasticdump', { args: cmd.args });
  const handle = startDump(cmd, runner.ctx, { tool: 'elasticdump', stderrFailure: STDERR_FAILURE });
  const chunker = new LineChunker(plan.chunkBytes);
  let n = 0;
  try {
    for await (const chunk of handle.stdout as AsyncIterable<Buffer>) {
      for (const part of chunker.push(chunk)) await addEntry(pack, dataEntryName(n++), part);
    }
    const last = chunker.end();
    if (last) await addEntry(pack, dataEntryName(n++), last);
  } catch (err) {
    handle.kill();
    await handle.done.catch(() => undefined);
    throw err;
  }
  await handle.done;
}

export interface ElasticsearchOptions {
  /** Bytes of documents per data entry. */
  dataChunkBytes?: number;
}

/** The engine; options for tests (small chunks). */
export function makeElasticsearch(options: ElasticsearchOptions = {}): Engine {
  const chunkBytes = options.dataChunkBytes ?? DEFAULT_DATA_CHUNK_BYTES;

  return {
    type: 'elasticsearch',
    defaultPort: 9200,
    output: () => ({ format: 'tar', extension: 'tar' }),

    async serverVersion(target, ctx) {
      return describeServer(await esServer(target, ctx.signal));
    },

    async client(_target, ctx) {
      return { tool: 'elasticdump', version: await elasticdumpVersion(elasticdumpPath(), ctx) };
    },

    dump(target, database, ctx): DumpHandle {
      const pack = tar.pack();
      const stdout = new PassThrough();
      // A failure reaches the consumer through stdout and `done`, not the archive's own event.
      pack.on('error', () => undefined);
      pack.pipe(stdout);
      const runner = new Runner(ctx);
      const done = (async () => {
        try {
          const problem = patternProblem(database);
          if (problem) throw new UserError(`elasticsearch: ${problem}`);
          const file = elasticdumpPath();
          const [server, client] = await Promise.all([
            esServer(target, ctx.signal),
            elasticdumpVersion(file, ctx),
          ]);
          await writeArchive({ target, database, file, server, client, chunkBytes }, pack, runner);
          pack.finalize();
        } catch (err) {
          const e = scrubbed(err, target) as Error;
          pack.destroy(e);
          stdout.destroy(e);
          throw e;
        }
      })();
      done.catch(() => undefined);
      return {
        stdout,
        done,
        kill: (signal = 'SIGTERM') => {
          runner.kill(signal);
          pack.destroy(new DumpFailedError('elasticdump', null, 'stopped', signal));
        },
      };
    },

    async restore(target, database, input, ctx) {
      try {
        await restoreArchive(target, database, input, ctx);
      } catch (err) {
        throw scrubbed(err, target);
      }
    },
  };
}

export const elasticsearch = makeElasticsearch();
