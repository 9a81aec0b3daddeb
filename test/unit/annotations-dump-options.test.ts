// The options dump-options may not set, as each engine declares them
// (src/annotations/dump-options.ts).
import { describe, expect, it } from 'vitest';
import { ELASTICSEARCH_RESERVED_OPTIONS } from '../../dumpers/elasticsearch/commands.js';
import { MYSQL_RESERVED_OPTIONS } from '../../dumpers/mysql/commands.js';
import { POSTGRESQL_RESERVED_OPTIONS } from '../../dumpers/postgresql.js';
import { reservedOptionIn } from '../../src/annotations/dump-options.js';
import { engineTypes, type EngineType } from '../../src/manifest.js';

const declared: Record<EngineType, readonly string[]> = {
  postgresql: POSTGRESQL_RESERVED_OPTIONS,
  mysql: MYSQL_RESERVED_OPTIONS,
  mariadb: MYSQL_RESERVED_OPTIONS,
  elasticsearch: ELASTICSEARCH_RESERVED_OPTIONS,
};
const cases = engineTypes.flatMap((type) => declared[type].map((o) => [type, o] as const));

describe('reservedOptionIn', () => {
  it.each(cases)('given %s and %s alone, then it is reserved', (type, option) => {
    expect(reservedOptionIn(type, ['--verbose', option])).toBe(option);
  });

  it.each(cases)('given %s and %s with a value attached, then it is reserved', (type, option) => {
    const word = option.startsWith('--') ? `${option}=x` : `${option}x`;
    expect(reservedOptionIn(type, [word])).toBe(word);
  });

  it.each([
    ['postgresql', '--format=custom'],
    ['postgresql', '--hostx'],
    ['postgresql', '--exclude-table=audit'],
    ['mysql', '--hex-blob'],
    ['mysql', '--userx'],
    ['mariadb', '--skip-lock-tables'],
    ['elasticsearch', '--searchBody={}'],
    ['elasticsearch', '--inputx'],
  ] as const)('given %s and %s, then it is not reserved', (type, word) => {
    expect(reservedOptionIn(type, [word])).toBeUndefined();
  });
});
