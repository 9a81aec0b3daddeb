/**
 * The Elasticsearch archive: one plain tar whose entries are the files
 * elasticdump itself writes with `--output=<file>`, so a user can restore
 * any of them by hand with `elasticdump --input=<file> --type=<type>`.
 *
 *   snapkeeper-elasticsearch.json   what this is: layout version, pattern, indices, server
 *   settings/<index>.json           one per index: settings, analysis (analyzers) included
 *   mapping.json                    every index's mappings
 *   alias.json                      aliases (absent when no index has one)
 *   policy.json                     ILM / ISM policies        (all-indices dumps, when the server has them)
 *   component_template.json         component templates      (all-indices dumps, 7.8+ / OpenSearch)
 *   index_template.json             composable templates     (all-indices dumps, 7.8+ / OpenSearch)
 *   template.json                   legacy templates         (all-indices dumps)
 *   data/000000.json …              documents, one JSON per line, each entry ≤ the chunk size
 *
 * The entries are in restore order: indices are created from their settings,
 * then mappings and aliases, then the cluster-level objects, then documents.
 * A tar entry's size is written before its bytes, so the small outputs are
 * buffered whole and the documents are cut, at line ends, into bounded
 * chunks: memory stays at one chunk (plus one document) whatever the size.
 *
 * Pure functions only; the engine (../elasticsearch.ts) runs the tools.
 */

export const ARCHIVE_LAYOUT_VERSION = 1;
export const METADATA_ENTRY = 'snapkeeper-elasticsearch.json';
export const DATA_DIR = 'data/';
export const SETTINGS_DIR = 'settings/';
/** Bytes of documents per data entry (a single larger document makes a larger entry). */
export const DEFAULT_DATA_CHUNK_BYTES = 8 * 1024 * 1024;

/** elasticdump `--type`s that live in one entry named `<type>.json`. */
export const CLUSTER_TYPES = [
  'policy',
  'component_template',
  'index_template',
  'template',
] as const;
export type ClusterType = (typeof CLUSTER_TYPES)[number];

export type EsType = 'settings' | 'mapping' | 'alias' | ClusterType | 'data';

export interface ArchiveMetadata {
  kind: 'snapkeeper-elasticsearch';
  layout: number;
  /** The index pattern the dump read (`*` expanded: see indexPatternFor). */
  pattern: string;
  indices: string[];
  server: string;
  client: string;
  /** Types present in the archive, in order. */
  types: EsType[];
  createdAt: string;
}

/** What an archive entry holds, from its name; undefined for an unknown entry. */
export type EntryKind =
  | { kind: 'metadata' }
  | { kind: 'settings'; index: string }
  | { kind: 'mapping' | 'alias' | ClusterType }
  | { kind: 'data'; chunk: number };

export function classifyEntry(name: string): EntryKind | undefined {
  if (name === METADATA_ENTRY) return { kind: 'metadata' };
  if (name.startsWith(SETTINGS_DIR) && name.endsWith('.json')) {
    const index = name.slice(SETTINGS_DIR.length, -'.json'.length);
    return isIndexName(index) ? { kind: 'settings', index } : undefined;
  }
  const data = /^data\/(\d{6,})\.json$/.exec(name);
  if (data) return { kind: 'data', chunk: Number(data[1]) };
  const type = name.replace(/\.json$/, '');
  if (name.endsWith('.json') && (type === 'mapping' || type === 'alias')) return { kind: type };
  if (name.endsWith('.json') && (CLUSTER_TYPES as readonly string[]).includes(type)) {
    return { kind: type as ClusterType };
  }
  return undefined;
}

export function settingsEntryName(index: string): string {
  return `${SETTINGS_DIR}${index}.json`;
}

export function dataEntryName(chunk: number): string {
  return `${DATA_DIR}${String(chunk).padStart(6, '0')}.json`;
}

/**
 * A concrete index name as Elasticsearch accepts one (lowercase rules aside):
 * no path or wildcard characters, so it is a safe tar entry name and URL path.
 */
export function isIndexName(s: string): boolean {
  return (
    s.length > 0 &&
    Buffer.byteLength(s) <= 255 &&
    s !== '.' &&
    s !== '..' &&
    !/[\\/*?"<>| ,#\s]/.test(s) &&
    !/^[-_+]/.test(s)
  );
}

/**
 * The pattern one object dumps: `*` is every open index except the
 * dot-prefixed system and plugin indices (`.kibana`, `.opendistro-*`, ...),
 * which a user names explicitly when wanted. Anything else is an index,
 * alias or wildcard pattern, as the server understands it.
 */
export function indexPatternFor(database: string): string {
  return database === '*' ? '*,-.*' : database;
}

/** Checks a database (index pattern) before it goes into a URL path; returns the problem or undefined. */
export function patternProblem(database: string): string | undefined {
  if (database === '') return 'an empty index pattern';
  if (/[\\/?"<>|#\s]/.test(database)) {
    return `"${database}" is not an index pattern (no \\ / ? " < > | # or spaces)`;
  }
  return undefined;
}

/** Settings elasticdump itself drops before a restore (index identity, not configuration). */
const PRIVATE_INDEX_SETTINGS = [
  'version',
  'creation_date',
  'uuid',
  'provided_name',
  'resize',
  'routing.allocation.initial_recovery',
];

/**
 * elasticdump's settings output (a JSON string holding `{index: {settings}}`
 * for every matched index, plus an empty entry under the pattern itself)
 * split per index, identity settings removed. Each value is the text of a
 * `settings/<index>.json` entry, in elasticdump's own file format.
 */
export function splitSettings(output: string, pattern: string): Map<string, string> {
  const all = parseDumpedJson(output, 'settings') as Record<string, unknown>;
  const out = new Map<string, string>();
  for (const [index, value] of Object.entries(all)) {
    if (index === pattern && isEmptyObject(value)) continue;
    if (!isIndexName(index))
      throw new Error(`settings: unexpected index name ${JSON.stringify(index)}`);
    const settings = structuredClone(value) as { settings?: { index?: Record<string, unknown> } };
    const idx = settings.settings?.index;
    if (idx) for (const path of PRIVATE_INDEX_SETTINGS) deletePath(idx, path.split('.'));
    out.set(index, JSON.stringify(JSON.stringify({ [index]: settings })) + '\n');
  }
  return out;
}

/**
 * elasticdump's alias output without the indices that have none (its
 * restore fails on those with "no aliases detected"); undefined when no
 * alias is left.
 */
export function filterAliases(output: string): string | undefined {
  const all = parseDumpedJson(output, 'alias') as Record<string, { aliases?: object }>;
  const kept = Object.fromEntries(
    Object.entries(all).filter(([, v]) => v.aliases && !isEmptyObject(v.aliases)),
  );
  if (Object.keys(kept).length === 0) return undefined;
  return JSON.stringify(JSON.stringify(kept)) + '\n';
}

/** Whether a cluster-level output holds anything (`{}`, `{"index_templates":[]}` do not). */
export function hasClusterObjects(output: string, type: ClusterType): boolean {
  const v = parseDumpedJson(output, type);
  if (!v || typeof v !== 'object') return false;
  const values = Object.values(v as Record<string, unknown>);
  if (type === 'component_template' || type === 'index_template') {
    return values.some((x) => Array.isArray(x) && x.length > 0);
  }
  return values.length > 0;
}

/**
 * The one JSON value elasticdump writes to `$` for a non-data type: either
 * the object itself (mapping) or a JSON string holding it (settings, alias,
 * templates).
 */
export function parseDumpedJson(output: string, what: string): unknown {
  const text = output.trim();
  if (text === '') throw new Error(`${what}: elasticdump wrote nothing`);
  let v: unknown;
  try {
    v = JSON.parse(text);
    if (typeof v === 'string') v = JSON.parse(v);
  } catch (err) {
    throw new Error(
      `${what}: elasticdump wrote something that is not JSON (${(err as Error).message})`,
    );
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) {
    throw new Error(`${what}: elasticdump wrote ${typeof v}, expected an object`);
  }
  return v;
}

/**
 * How many objects elasticdump must report written when restoring an
 * entry of `type` (its "Total Writes"); undefined where its count says
 * nothing (mapping: counted before the requests; policy: untested shape).
 */
export function expectedWrites(type: EsType, text: string): number | undefined {
  switch (type) {
    case 'settings':
      return 1;
    case 'alias': {
      const all = parseDumpedJson(text, type) as Record<string, { aliases?: object }>;
      return Object.values(all).reduce((n, v) => n + Object.keys(v.aliases ?? {}).length, 0);
    }
    case 'template':
      return Object.keys(parseDumpedJson(text, type) as object).length;
    case 'component_template':
    case 'index_template': {
      const list = (parseDumpedJson(text, type) as Record<string, unknown>)[`${type}s`];
      return Array.isArray(list) ? list.length : 0;
    }
    case 'data':
      return countLines(text);
    default:
      return undefined;
  }
}

/** Newline-terminated lines in a data chunk (one document each). */
export function countLines(text: string | Buffer): number {
  const b = typeof text === 'string' ? Buffer.from(text) : text;
  let n = 0;
  for (let i = b.indexOf(0x0a); i >= 0; i = b.indexOf(0x0a, i + 1)) n++;
  return n;
}

/** The last "Total Writes: N" elasticdump logged; undefined if none. */
export function parseTotalWrites(stdout: string): number | undefined {
  const all = [...stdout.matchAll(/Total Writes: (\d+)/g)];
  const last = all[all.length - 1];
  return last ? Number(last[1]) : undefined;
}

/** Top-level field names per index of a mapping (the archive's mapping.json or `GET _mapping`). */
export function mappingFields(mapping: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [index, v] of Object.entries((mapping ?? {}) as Record<string, unknown>)) {
    const props = (v as { mappings?: { properties?: object } })?.mappings?.properties ?? {};
    out.set(index, Object.keys(props).sort());
  }
  return out;
}

function isEmptyObject(v: unknown): boolean {
  return !!v && typeof v === 'object' && Object.keys(v).length === 0;
}

function deletePath(obj: Record<string, unknown>, path: string[]): void {
  const [head, ...rest] = path;
  if (head === undefined) return;
  if (rest.length === 0) {
    delete obj[head];
    return;
  }
  const next = obj[head];
  if (next && typeof next === 'object') {
    deletePath(next as Record<string, unknown>, rest);
    if (Object.keys(next).length === 0) delete obj[head];
  }
}

/**
 * Cuts a stream of newline-terminated documents into chunks of about
 * `maxBytes`, each ending at a line end. `push` returns the chunks that are
 * complete; `end` the rest.
 */
export class LineChunker {
  private parts: Buffer[] = [];
  private size = 0;
  constructor(private readonly maxBytes = DEFAULT_DATA_CHUNK_BYTES) {}

  push(chunk: Buffer): Buffer[] {
    this.parts.push(chunk);
    this.size += chunk.length;
    const out: Buffer[] = [];
    while (this.size >= this.maxBytes) {
      const all = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
      // The last line end at or before the limit; else the first after it (one big document).
      let cut = all.lastIndexOf(0x0a, this.maxBytes - 1);
      if (cut < 0) cut = all.indexOf(0x0a, this.maxBytes);
      if (cut < 0) {
        this.parts = [all];
        break;
      }
      out.push(all.subarray(0, cut + 1));
      const rest = all.subarray(cut + 1);
      this.parts = rest.length > 0 ? [rest] : [];
      this.size = rest.length;
    }
    return out;
  }

  end(): Buffer | undefined {
    if (this.size === 0) return undefined;
    const all = Buffer.concat(this.parts);
    this.parts = [];
    this.size = 0;
    return all[all.length - 1] === 0x0a ? all : Buffer.concat([all, Buffer.from('\n')]);
  }
}
