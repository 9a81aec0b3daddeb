/**
 * What a backup holds, per database: every table with its row count and the
 * count of each kind of schema object. Recorded at backup time (the
 * manifest's `contents`), compared after a restore (`restore-test`), shown
 * and compared by `describe` and `diff`.
 */
import { z } from 'zod';

export const objectKinds = [
  'tables',
  'views',
  'materializedViews',
  'sequences',
  'functions',
  'procedures',
  'triggers',
  'events',
  'indexes',
  'aliases',
] as const;
export type ObjectKind = (typeof objectKinds)[number];

export type ContentsDialect = 'postgresql' | 'mysql' | 'elasticsearch';

const allBut = (...not: ObjectKind[]) => objectKinds.filter((k) => !not.includes(k));

/** The kinds a dialect's dumps can hold; each is counted, zero included, so that one appearing is a difference. */
export const kindsOf: Record<ContentsDialect, readonly ObjectKind[]> = {
  postgresql: allBut('aliases'),
  mysql: allBut('materializedViews', 'aliases'),
  elasticsearch: ['indexes', 'aliases'],
};

export function emptyObjects(dialect: ContentsDialect): Partial<Record<ObjectKind, number>> {
  const out: Partial<Record<ObjectKind, number>> = {};
  for (const k of kindsOf[dialect]) out[k] = 0;
  return out;
}

export const tableCountSchema = z.object({
  /** PostgreSQL `schema.table`, MySQL `table`, Elasticsearch the index; quoted only where needed. */
  name: z.string(),
  rows: z.number().int().nonnegative(),
});

/**
 * One database of a backup. `tables` and `objects` absent: not counted
 * (`uncounted` says why, e.g. a custom-format archive).
 */
export const databaseContentsSchema = z.object({
  /** The manifest object this database is in. */
  key: z.string(),
  database: z.string(),
  tables: z.array(tableCountSchema).optional(),
  objects: z.record(z.string(), z.number().int().nonnegative()).optional(),
  uncounted: z.string().optional(),
  /**
   * PostgreSQL: the roles the dump names (owners, grantees) and does not
   * create itself; a restore into a fresh server creates them first.
   */
  roles: z.array(z.string()).optional(),
});

export type TableCount = z.infer<typeof tableCountSchema>;
export type DatabaseContents = z.infer<typeof databaseContentsSchema>;

/** What a counter produces for one database, before it is tied to a manifest object. */
export interface DatabaseCounts {
  database: string;
  tables: TableCount[];
  objects: Partial<Record<ObjectKind, number>>;
  roles?: string[];
}
