/**
 * Index names and index patterns: what an archive entry may be named after,
 * and what a `databases` entry may put into a URL path.
 */

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
