/**
 * The `dump-options` annotation's one rule beyond shell splitting: it may not
 * set an option the dumper sets itself. Each engine declares its own next to
 * the argv it builds; this record makes a new engine name its list (the
 * Record type fails to compile without it).
 */
import { ELASTICSEARCH_RESERVED_OPTIONS } from '../../dumpers/elasticsearch/commands.js';
import { MYSQL_RESERVED_OPTIONS } from '../../dumpers/mysql/commands.js';
import { POSTGRESQL_RESERVED_OPTIONS } from '../../dumpers/postgresql.js';
import type { EngineType } from '../manifest.js';

const reservedOptions: Record<EngineType, readonly string[]> = {
  postgresql: POSTGRESQL_RESERVED_OPTIONS,
  mysql: MYSQL_RESERVED_OPTIONS,
  mariadb: MYSQL_RESERVED_OPTIONS,
  elasticsearch: ELASTICSEARCH_RESERVED_OPTIONS,
};

/**
 * The first word that sets a reserved option of `type`, or undefined. A long
 * option matches as `--opt` or `--opt=…`; a short one also glued to its
 * value (`-fout.sql`).
 */
export function reservedOptionIn(type: EngineType, words: readonly string[]): string | undefined {
  return words.find((word) =>
    reservedOptions[type].some((o) =>
      o.startsWith('--')
        ? word === o || word.startsWith(`${o}=`)
        : word === o || (word.startsWith(o) && word.length > 2 && !word.startsWith('--')),
    ),
  );
}
