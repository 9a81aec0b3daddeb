/**
 * What elasticdump writes for the non-data types, read into the archive's
 * entries (./archive.ts): settings split per index without their identity
 * settings, aliases without the indices that have none, and whether a
 * cluster-level output holds anything. Pure functions.
 */
import type { ClusterType } from './archive.js';
import { isIndexName } from './indices.js';

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
