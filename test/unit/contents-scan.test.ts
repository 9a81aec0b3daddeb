// Counting what a dump holds while it streams (src/contents): generated
// dumps whose every value is hostile (quotes, backslashes, newlines,
// parentheses, semicolons, binary bytes, `_binary` and hex literals, NULL)
// count exactly the rows they were made with, cut into chunks anywhere; and
// no input makes a scanner throw.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArchiveScanner } from '../../src/contents/archive-scan.js';
import { renderTableName } from '../../src/contents/sql-tokens.js';
import { SqlScanner, type SqlDialect } from '../../src/contents/sql-scan.js';
import { ContentsCounter } from '../../src/contents/stage.js';
import { manifestSchema } from '../../src/manifest.js';
import tar from 'tar-stream';

function scan(dialect: SqlDialect, dump: Buffer | string, cuts: number[] = []) {
  const s = new SqlScanner(dialect, 'db');
  const buf = Buffer.isBuffer(dump) ? dump : Buffer.from(dump);
  let at = 0;
  for (const c of [...new Set(cuts.map((x) => x % (buf.length + 1)))].sort((a, b) => a - b)) {
    s.push(buf.subarray(at, c));
    at = c;
  }
  s.push(buf.subarray(at));
  return s.end();
}

const rowsOf = (r: ReturnType<typeof scan>) =>
  Object.fromEntries(r.flatMap((d) => d.tables.map((t) => [t.name, t.rows])));

// --- value renderers, as the dump tools write them -----------------------

/** mysqldump's string escaping. */
function myString(bytes: Buffer): Buffer {
  const out: number[] = [0x27];
  for (const b of bytes) {
    const esc: Record<number, string> = {
      0: '\\0',
      0x27: "\\'",
      0x22: '\\"',
      0x5c: '\\\\',
      0x0a: '\\n',
      0x0d: '\\r',
      0x1a: '\\Z',
    };
    if (esc[b] !== undefined) out.push(...Buffer.from(esc[b]));
    else out.push(b);
  }
  out.push(0x27);
  return Buffer.from(out);
}

const myValue = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((a) => myString(Buffer.from(a))),
  fc
    .uint8Array({ maxLength: 40 })
    .map((a) => Buffer.concat([Buffer.from('_binary '), myString(Buffer.from(a))])),
  fc
    .uint8Array({ minLength: 1, maxLength: 20 })
    .map((a) => Buffer.from('0x' + Buffer.from(a).toString('hex').toUpperCase())),
  fc.constant(Buffer.from('NULL')),
  fc.integer().map((n) => Buffer.from(String(n))),
  fc.string({ maxLength: 30 }).map((s) => myString(Buffer.from(s))),
);

/** PostgreSQL COPY text format: one line per row, \N for NULL. */
function copyField(v: string | null): string {
  if (v === null) return '\\N';
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
}

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom(
    '\\.',
    '\n\\.\n',
    "');",
    '$$;',
    'COPY x FROM stdin;',
    '(((',
    '))',
    '\r\n',
    '\\',
    '"',
  ),
);

const identifier = fc.oneof(
  fc.stringMatching(/^[a-z_][a-z0-9_]{0,10}$/),
  fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes('\0')),
);

const pgTable = fc.record({
  schema: identifier,
  name: identifier,
  rows: fc.array(
    fc.array(fc.option(hostileString, { nil: null }), { minLength: 1, maxLength: 3 }),
    {
      maxLength: 20,
    },
  ),
});

function pgQuote(id: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(id) ? id : '"' + id.replace(/"/g, '""') + '"';
}

function pgDump(
  tables: { schema: string; name: string; rows: (string | null)[][] }[],
  inserts: boolean,
) {
  const out: string[] = [
    '--\n-- PostgreSQL database dump\n--\n\\restrict abc\n',
    "SET standard_conforming_strings = on;\nCREATE FUNCTION f() RETURNS text LANGUAGE sql AS $body$ SELECT 'COPY t FROM stdin;' $body$;\n",
    "/* a comment; with /* nested */ COPY x FROM stdin; */\nCOMMENT ON TABLE t IS E'it\\'s; COPY';\n",
  ];
  for (const t of tables) {
    const q = `${pgQuote(t.schema)}.${pgQuote(t.name)}`;
    out.push(`CREATE TABLE ${q} (a text);\n`);
    if (inserts) {
      for (const r of t.rows)
        out.push(
          `INSERT INTO ${q} VALUES (${r.map((v) => (v === null ? 'NULL' : "'" + v.replace(/'/g, "''") + "'")).join(', ')});\n`,
        );
    } else {
      out.push(`COPY ${q} (a) FROM stdin;\n`);
      for (const r of t.rows) out.push(r.map(copyField).join('\t') + '\n');
      out.push('\\.\n\n');
    }
  }
  out.push('\\unrestrict abc\n');
  return out.join('');
}

describe('SqlScanner, PostgreSQL', () => {
  it('given generated COPY and INSERT dumps with hostile values, when cut anywhere, then each table counts its rows', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(pgTable, { maxLength: 4, selector: (t) => `${t.schema}\0${t.name}` }),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 8 }),
        (tables, inserts, cuts) => {
          const dump = pgDump(tables, inserts);
          const counted = rowsOf(scan('postgresql', dump, cuts));
          const expected = Object.fromEntries(
            tables
              .filter((t) => !inserts || t.rows.length > 0)
              .map((t) => [renderTableName([t.schema, t.name], 'postgresql'), t.rows.length]),
          );
          expect(counted).toEqual(expected);
          expect(scan('postgresql', dump, cuts)[0]!.objects.tables).toBe(tables.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('given a pg_dump of the hard fixture, then its schema objects are counted once each', () => {
    const dump = String.raw`
SELECT pg_catalog.set_config('search_path', '', false);
CREATE SCHEMA "Übersicht ""quoted""";
CREATE TYPE public.mood AS ENUM ('sad', 'it''s ok');
CREATE FUNCTION public.bump() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN NEW.body := NEW.body || '!'; CREATE TABLE nope (x int); RETURN NEW; END $$;
CREATE PROCEDURE public.p() LANGUAGE sql AS $_$ SELECT 1; $_$;
CREATE TABLE "Übersicht ""quoted""".notes (id integer NOT NULL, body text);
CREATE TABLE public.m (id int) PARTITION BY RANGE (id);
CREATE TABLE public.m_1 (id int);
ALTER TABLE ONLY public.m ATTACH PARTITION public.m_1 FOR VALUES FROM (0) TO (10);
CREATE VIEW public.sad_notes AS SELECT 1;
CREATE MATERIALIZED VIEW public.mv AS SELECT 1 WITH NO DATA;
CREATE SEQUENCE "Übersicht ""quoted""".notes_id_seq AS integer START WITH 1;
ALTER TABLE public.m_1 ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME public.m_1_id_seq START WITH 1
);
COPY "Übersicht ""quoted""".notes (id, body) FROM stdin;
1	two\nlines 'and' "quotes"
2	\\.
\.
COPY public.m_1 (id) FROM stdin;
\.
ALTER TABLE ONLY "Übersicht ""quoted""".notes
    ADD CONSTRAINT notes_pkey PRIMARY KEY (id);
ALTER TABLE ONLY public.m ADD CONSTRAINT m_fk FOREIGN KEY (id) REFERENCES public.m_1(id);
CREATE INDEX notes_body ON "Übersicht ""quoted""".notes USING btree (body);
CREATE UNIQUE INDEX notes_body ON public.m_1 USING btree (id);
CREATE TRIGGER notes_bump BEFORE INSERT ON "Übersicht ""quoted""".notes FOR EACH ROW EXECUTE FUNCTION public.bump();
CREATE EVENT TRIGGER ev ON ddl_command_start EXECUTE FUNCTION public.bump();
`;
    const [db] = scan('postgresql', dump);
    expect(db!.tables).toEqual([
      { name: '"Übersicht ""quoted""".notes', rows: 2 },
      { name: 'public.m_1', rows: 0 },
    ]);
    expect(db!.objects).toEqual({
      tables: 3,
      views: 1,
      materializedViews: 1,
      sequences: 2,
      functions: 1,
      procedures: 1,
      triggers: 1,
      events: 1,
      indexes: 3,
    });
  });

  it('given owners and grants, then the roles a fresh server needs are named (not those the dump creates)', () => {
    const dump = [
      'CREATE ROLE made;',
      'ALTER SCHEMA s OWNER TO "App Owner";',
      'ALTER TABLE public.t OWNER TO made;',
      'GRANT SELECT ON TABLE public.t TO reader, GROUP "we""ird", PUBLIC;',
      'REVOKE ALL ON SCHEMA public FROM old_role;',
      'ALTER DEFAULT PRIVILEGES FOR ROLE deployer IN SCHEMA public GRANT SELECT ON TABLES TO reporting;',
      "COMMENT ON TABLE public.t IS 'OWNER TO nobody';",
      '',
    ].join('\n');
    const [db] = scan('postgresql', dump);
    expect(db!.roles).toEqual([
      'App Owner',
      'deployer',
      'old_role',
      'reader',
      'reporting',
      'we"ird',
    ]);
  });

  it('given pg_dumpall output, then each database after its \\connect counts apart', () => {
    const dump = [
      'CREATE ROLE x;',
      '\\connect template1',
      '\\connect -reuse-previous=on "dbname=\'shop\'"',
      'CREATE TABLE public.a (x int);',
      'COPY public.a (x) FROM stdin;',
      '1',
      '\\.',
      '\\connect "we""ird"',
      'CREATE TABLE public.a (x int);',
      'COPY public.a (x) FROM stdin;',
      '1',
      '2',
      '\\.',
      '',
    ].join('\n');
    const s = new SqlScanner('postgresql', '*');
    s.push(Buffer.from(dump));
    expect(s.end().map((d) => [d.database, d.tables])).toEqual([
      ['shop', [{ name: 'public.a', rows: 1 }]],
      ['we"ird', [{ name: 'public.a', rows: 2 }]],
    ]);
  });
});

const myTable = fc.record({
  name: identifier.filter((s) => !s.includes('`') || s.length > 0),
  rows: fc.array(fc.array(myValue, { minLength: 1, maxLength: 3 }), { maxLength: 20 }),
  perInsert: fc.integer({ min: 1, max: 7 }),
});

function myQuote(id: string): string {
  return '`' + id.replace(/`/g, '``') + '`';
}

function myDump(tables: { name: string; rows: Buffer[][]; perInsert: number }[]): Buffer {
  const out: Buffer[] = [
    Buffer.from(
      '/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump\n/*!40101 SET NAMES utf8mb4 */;\n# a comment; INSERT INTO x VALUES (1);\n',
    ),
  ];
  for (const t of tables) {
    const q = myQuote(t.name);
    out.push(
      Buffer.from(
        `DROP TABLE IF EXISTS ${q};\nCREATE TABLE ${q} (\n  \`id\` int NOT NULL,\n  \`v\` blob DEFAULT 'x''y);',\n  PRIMARY KEY (\`id\`),\n  KEY \`k\` (\`v\`(10))\n) ENGINE=InnoDB;\nLOCK TABLES ${q} WRITE;\n`,
      ),
    );
    for (let i = 0; i < t.rows.length; i += t.perInsert) {
      const batch = t.rows.slice(i, i + t.perInsert);
      out.push(Buffer.from(`INSERT INTO ${q} VALUES `));
      batch.forEach((r, j) => {
        out.push(Buffer.from(j === 0 ? '(' : ',\n('));
        r.forEach((v, k) => out.push(Buffer.from(k === 0 ? '' : ','), v));
        out.push(Buffer.from(')'));
      });
      out.push(Buffer.from(';\n'));
    }
    out.push(Buffer.from('UNLOCK TABLES;\n'));
  }
  out.push(
    Buffer.from(
      'DELIMITER ;;\n/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER t1 BEFORE UPDATE ON x FOR EACH ROW SET NEW.a = 1; \n*/;;\nDELIMITER ;\n',
    ),
  );
  return Buffer.concat(out);
}

describe('SqlScanner, MySQL / MariaDB', () => {
  it('given generated extended INSERTs with hostile values, when cut anywhere, then each table counts its rows', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(myTable, { maxLength: 4, selector: (t) => t.name }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (tables, cuts) => {
          const dump = myDump(tables);
          const counted = rowsOf(scan('mysql', dump, cuts));
          // Every table, the empty ones too (their CREATE TABLE says so).
          const expected = Object.fromEntries(
            tables.map((t) => [renderTableName([t.name], 'mysql'), t.rows.length]),
          );
          expect(counted).toEqual(expected);
          const [db] = scan('mysql', dump, cuts);
          expect(db!.objects.tables).toBe(tables.length);
          expect(db!.objects.indexes).toBe(2 * tables.length);
          expect(db!.objects.triggers).toBe(1);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('given a mariadb-dump with views, routines and events, then each counts once (stand-in views included)', () => {
    const dump = String.raw`
DROP TABLE IF EXISTS ${'`'}sad_orders${'`'};
/*!50001 DROP VIEW IF EXISTS ${'`'}sad_orders${'`'}*/;
/*!50001 CREATE VIEW ${'`'}sad_orders${'`'} AS SELECT
 NULL AS ${'`'}id${'`'} */;
/*!50001 CREATE TABLE ${'`'}old_view${'`'} (x int)*/;
/*!50001 DROP TABLE IF EXISTS ${'`'}old_view${'`'}*/;
/*!50001 CREATE VIEW ${'`'}old_view${'`'} AS SELECT 1*/;
DELIMITER ;;
CREATE DEFINER=${'`'}root${'`'}@${'`'}localhost${'`'} FUNCTION ${'`'}twice${'`'}(x INT) RETURNS int(11)
    DETERMINISTIC
RETURN x * 2 ;;
CREATE DEFINER=${'`'}root${'`'}@${'`'}%${'`'} PROCEDURE ${'`'}p${'`'}()
BEGIN
  INSERT INTO t VALUES (1),(2);
  SELECT ';;' ;
END ;;
/*!50106 CREATE*/ /*!50117 DEFINER=${'`'}root${'`'}@${'`'}localhost${'`'}*/ /*!50106 EVENT ${'`'}ev${'`'} ON SCHEDULE EVERY 1 DAY DO SELECT 1 */ ;;
DELIMITER ;
/*!50001 CREATE ALGORITHM=UNDEFINED */
/*!50013 DEFINER=${'`'}root${'`'}@${'`'}localhost${'`'} SQL SECURITY DEFINER */
/*!50001 VIEW ${'`'}sad_orders${'`'} AS select 1 */;
CREATE SEQUENCE ${'`'}s${'`'} start with 1 minvalue 1 maxvalue 9223372036854775806 increment by 1 cache 1000 nocycle ENGINE=InnoDB;
`;
    const [db] = scan('mysql', dump);
    expect(db!.tables).toEqual([]);
    expect(db!.objects).toEqual({
      tables: 0,
      views: 2,
      sequences: 1,
      functions: 1,
      procedures: 1,
      triggers: 0,
      events: 1,
      indexes: 0,
    });
  });

  it('given --all-databases output, then USE switches the database counted', () => {
    const dump =
      'CREATE DATABASE /*!32312 IF NOT EXISTS*/ `a`;\nUSE `a`;\nINSERT INTO `t` VALUES (1),(2);\n' +
      'CREATE DATABASE `b;c`;\nUSE `b;c`;\nINSERT INTO `t` VALUES (1);\n';
    const s = new SqlScanner('mysql', '*');
    s.push(Buffer.from(dump));
    expect(s.end().map((d) => [d.database, d.tables])).toEqual([
      ['a', [{ name: 't', rows: 2 }]],
      ['b;c', [{ name: 't', rows: 1 }]],
    ]);
  });
});

describe('SqlScanner, names that read like the VALUES keyword', () => {
  it('given a schema, table or column named value or values, then the rows go to the right table', () => {
    const pg = [
      'INSERT INTO value.a VALUES (NULL);',
      'INSERT INTO value.a VALUES (1), (2);',
      'INSERT INTO public.value VALUES (1);',
      "INSERT INTO public.t (id, value) VALUES (1, 'x');",
      "INSERT INTO public.t (id, value) VALUES (2, 'y'), (3, 'z');",
      'INSERT INTO values.values (value) VALUES (1);',
      'INSERT INTO public.ids OVERRIDING SYSTEM VALUE VALUES (1), (2);',
      'INSERT INTO public.ids (id, value) OVERRIDING SYSTEM VALUE VALUES (3, 1);',
    ].join('\n');
    expect(rowsOf(scan('postgresql', pg))).toEqual({
      'value.a': 3,
      'public.value': 1,
      'public.t': 3,
      'values.values': 1,
      'public.ids': 3,
    });
    const my = [
      'INSERT INTO value VALUES (1),(2);',
      'INSERT INTO t (id, value) VALUES (1,2);',
      'INSERT IGNORE INTO `values` VALUE (1);',
    ].join('\n');
    expect(rowsOf(scan('mysql', my))).toEqual({ value: 2, t: 1, values: 1 });
  });
});

describe('SqlScanner, any input', () => {
  it('given arbitrary bytes in any chunks, then it never throws', () => {
    fc.assert(
      fc.property(
        fc.constantFrom<SqlDialect>('postgresql', 'mysql'),
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (dialect, bytes, cuts) => {
          scan(dialect, Buffer.from(bytes), cuts);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('given SQL-ish noise, then it never throws', () => {
    const piece = fc.constantFrom(
      'COPY ',
      'INSERT INTO ',
      'VALUES ',
      '(',
      ')',
      ';',
      "'",
      '"',
      '`',
      '$$',
      '$a$',
      '\\.',
      '\n',
      '--',
      '/*',
      '*/',
      '/*!5000',
      '#',
      'DELIMITER ;;\n',
      ';;',
      'CREATE TABLE ',
      'FROM stdin;\n',
      "E'",
      '\\',
      'x',
      ' ',
      ',',
      '\\connect db\n',
      'USE `x`;',
    );
    fc.assert(
      fc.property(
        fc.constantFrom<SqlDialect>('postgresql', 'mysql'),
        fc.array(piece, { maxLength: 60 }),
        fc.array(fc.nat(), { maxLength: 6 }),
        (dialect, pieces, cuts) => {
          scan(dialect, pieces.join(''), cuts);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

async function archive(entries: [string, string][]): Promise<Buffer> {
  const pack = tar.pack();
  for (const [name, body] of entries) pack.entry({ name }, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

describe('ArchiveScanner (Elasticsearch)', () => {
  it('given an archive cut anywhere, then documents count per index, with indices and aliases', async () => {
    const doc = (index: string, id: number) =>
      JSON.stringify({ _index: index, _id: String(id), _source: { t: 'a\nb"}{' } }) + '\n';
    const data1 = doc('logs', 1) + doc('logs', 2) + doc('users', 1);
    const data2 = doc('logs', 3);
    const aliases =
      JSON.stringify(JSON.stringify({ logs: { aliases: { a1: {}, a2: {} } } })) + '\n';
    const buf = await archive([
      ['snapkeeper-elasticsearch.json', '{}'],
      ['settings/logs.json', '{}'],
      ['settings/users.json', '{}'],
      ['settings/empty.json', '{}'],
      ['mapping.json', '{}'],
      ['alias.json', aliases],
      ['data/000000.json', data1],
      ['data/000001.json', data2],
    ]);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(buf.length), { maxLength: 10 }), async (cuts) => {
        const s = new ArchiveScanner('*');
        let at = 0;
        for (const c of [...new Set(cuts)].sort((a, b) => a - b)) {
          s.push(buf.subarray(at, c));
          at = c;
        }
        s.push(buf.subarray(at));
        expect(s.end()).toEqual([
          {
            database: '*',
            tables: [
              { name: 'logs', rows: 3 },
              { name: 'users', rows: 1 },
              { name: 'empty', rows: 0 },
            ],
            objects: { indexes: 3, aliases: 2 },
          },
        ]);
      }),
      { numRuns: 100 },
    );
  });
});

describe('ContentsCounter and the manifest', () => {
  it('given a custom-format archive, then nothing is counted and the manifest says why', async () => {
    const c = new ContentsCounter('postgresql', 'custom', 'shop');
    c.end(Buffer.from('PGDMP\x01\x0e'));
    for await (const _ of c) void _;
    const contents = c.contents('k/shop.dump.gz', 'shop');
    expect(contents).toEqual([
      {
        key: 'k/shop.dump.gz',
        database: 'shop',
        uncounted: expect.stringMatching(/custom.*not counted/),
      },
    ]);
  });

  const base = {
    schemaVersion: 1,
    workload: { namespace: 'shop', kind: 'StatefulSet', name: 'pg' },
    engine: 'postgresql',
    databases: ['app'],
    server: { version: '15.4' },
    client: { tool: 'pg_dump', version: '15.4' },
    startedAt: '2026-11-20T03:00:00.000Z',
    finishedAt: '2026-11-20T03:00:05.000Z',
    objects: [
      {
        database: 'app',
        key: 'a/app.sql.gz',
        rawBytes: 10,
        bytes: 5,
        sha256: 'a'.repeat(64),
        format: 'sql',
      },
    ],
    compression: 'gzip',
    encryption: null,
    snapkeeperVersion: '0.1.0',
  };

  it('given a manifest written before contents existed, then it still parses', () => {
    const m = manifestSchema.parse(base);
    expect(m.contents).toBeUndefined();
  });

  it('given a manifest with contents, then they parse back as written', () => {
    const contents = [
      {
        key: 'a/app.sql.gz',
        database: 'app',
        tables: [{ name: 'public.t', rows: 3 }],
        objects: { tables: 1 },
      },
    ];
    expect(manifestSchema.parse({ ...base, contents }).contents).toEqual(contents);
  });
});
