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
 * This module is the layout (entry names, the metadata entry); what goes
 * into the entries is read from elasticdump's outputs in ./elasticdump-output.ts,
 * the documents are cut by ./line-chunker.ts, index names and patterns are
 * checked in ./indices.ts, and a restore's write counts in ./write-counts.ts.
 * Pure functions only; the engine (../elasticsearch.ts) runs the tools.
 */

import { isIndexName } from './indices.js';

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
