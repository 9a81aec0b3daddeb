/**
 * elasticdump does not fail on a write error in its last batch, so a restore
 * checks its "Total Writes" against what the entry holds. Pure functions.
 */
import type { EsType } from './archive.js';
import { parseDumpedJson } from './elasticdump-output.js';

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
