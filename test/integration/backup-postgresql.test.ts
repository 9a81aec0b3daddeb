// A backup test is a restore test: a PostgreSQL database with hard content is
// backed up encrypted to the S3 server with `snapkeeper backup`, read back
// with rclone, decrypted with the reference `age`, gunzipped with `gunzip`,
// restored with psql into a fresh database, and both databases dump the same.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { postgresql } from '../../dumpers/postgresql.js';
import { parseIdentityFile } from '../../src/crypto/age-keys.js';
import { decryptStream } from '../../src/crypto/age.js';
import { createLogger } from '../../src/log.js';
import { manifestSchema } from '../../src/manifest.js';
import {
  ageKeypair,
  createPgDatabase,
  pgEnv,
  pgUrl,
  psql,
  rcloneCat,
  rcloneList,
  run,
  uniqueName,
  pgDumpText,
} from '../env/helpers.js';
import { fetchDecryptGunzip, s3Args, s3Env, snapkeeper } from './backup-support.js';

const pg = inject('postgres');
const s3 = inject('s3');

/** Hard content: schemas, non-ASCII names, quotes/newlines, bytea, JSON, enums, sequences, views, functions, triggers, partitions. */
export const PG_HARD_CONTENT = String.raw`
CREATE SCHEMA sales;
CREATE SCHEMA "Ünïcødé ""schema""";
CREATE TYPE sales.mood AS ENUM ('sad', 'ok', 'happy', 'it''s complicated');
CREATE SEQUENCE sales.counter START 42 INCREMENT 7;
SELECT nextval('sales.counter'), nextval('sales.counter');
CREATE TABLE sales.orders (
  id serial PRIMARY KEY,
  note text,
  doc jsonb,
  raw bytea,
  mood sales.mood,
  price numeric(12, 4),
  at timestamptz NOT NULL DEFAULT '2026-01-01T00:00:00Z',
  touched int NOT NULL DEFAULT 0
);
CREATE FUNCTION sales.touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.touched := NEW.touched + 1;
  RETURN NEW;
END $$;
CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON sales.orders
  FOR EACH ROW EXECUTE FUNCTION sales.touch();
INSERT INTO sales.orders (note, doc, raw, mood, price) VALUES
  (E'line one\nline two\ttab \\ backslash', '{"a": [1, 2, {"b": "ç\"q"}], "n": null}', '\x00ff00deadbeef0a0d', 'happy', 12.3456),
  ('it''s "quoted" and ; semicolon -- not a comment', '[]', '\x', 'it''s complicated', -0.0001),
  (NULL, NULL, NULL, NULL, NULL),
  ('日本語 テキスト 🎉', '{"emoji": "🎉", "unicode": "Ünïcødé"}', decode(repeat('00', 300), 'hex'), 'sad', 99999999.9999);
INSERT INTO sales.orders (note, doc, mood, price)
  SELECT 'row ' || g || E'\n' || md5(g::text), jsonb_build_object('g', g, 's', md5(g::text)), 'ok', g / 3.0
  FROM generate_series(1, 5000) g;
CREATE VIEW sales.happy_orders AS SELECT id, note FROM sales.orders WHERE mood = 'happy';
CREATE TABLE "Ünïcødé ""schema"""."tâble ""with"" quotes" (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  "naïve column" text,
  tags text[]
);
INSERT INTO "Ünïcødé ""schema"""."tâble ""with"" quotes" ("naïve column", tags)
  VALUES ('déjà vu', ARRAY['a', 'b "c"', E'd\ne']), ('\N is not null', '{}');
CREATE TABLE sales.events (id int NOT NULL, at date NOT NULL, payload text) PARTITION BY RANGE (at);
CREATE TABLE sales.events_2025 PARTITION OF sales.events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE sales.events_2026 PARTITION OF sales.events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
INSERT INTO sales.events SELECT g, DATE '2025-06-01' + g, 'event ' || g FROM generate_series(1, 400) g;
COMMENT ON TABLE sales.orders IS 'orders, with a comment that says ''hello''';
`;

const dumpOf = (db: string) => pgDumpText(pg, db);

describe('backup postgresql → S3, encrypted', () => {
  let source: string;
  beforeAll(async () => {
    source = await createPgDatabase(pg, uniqueName('pgsrc'));
    await psql(pg, source, PG_HARD_CONTENT);
  });

  it('given hard content, when backed up and restored with age, gunzip and psql, then both databases dump identically', async () => {
    const { identityFile, recipient } = await ageKeypair();
    const prefix = uniqueName('pgrt');
    const r = await snapkeeper(
      [
        'backup',
        pgUrl(pg, source),
        ...s3Args(s3, prefix),
        '--recipient',
        recipient,
        '--name',
        'shop/postgres',
        '--output',
        'json',
      ],
      s3Env(s3),
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as {
      ok: boolean;
      manifestKey: string;
      objects: { key: string; sha256: string; bytes: number }[];
      serverVersion: string;
    };
    expect(result.ok).toBe(true);

    // What is in the bucket, seen by rclone: one dump and its manifest, in the documented layout.
    const listed = await rcloneList(s3, prefix);
    const paths = listed
      .map((e) => e.path)
      .sort((x, y) => Number(x.endsWith('manifest.json')) - Number(y.endsWith('manifest.json')));
    expect(paths).toHaveLength(2);
    expect(paths[0]).toMatch(
      new RegExp(`^shop/postgres/\\d{8}T\\d{6}\\.\\d{3}Z-[a-z2-9]{6}/${source}\\.sql\\.gz\\.age$`),
    );
    expect(paths[1]).toMatch(/^shop\/postgres\/\d{8}T\d{6}\.\d{3}Z-[a-z2-9]{6}\/manifest\.json$/);

    const manifest = manifestSchema.parse(
      JSON.parse((await rcloneCat(s3, `${prefix}/${paths[1]}`)).toString()),
    );
    expect(manifest.engine).toBe('postgresql');
    expect(manifest.encryption).toEqual({ type: 'age', recipients: [recipient] });
    expect(manifest.server.version).toBe(
      (await psql(pg, 'postgres', 'SHOW server_version')).trim().split(' ')[0],
    );
    expect(manifest.objects[0]!.key).toBe(`${prefix}/${paths[0]}`.slice(prefix.length + 1));

    const { stored, plain } = await fetchDecryptGunzip(s3, `${prefix}/${paths[0]}`, identityFile);
    expect(createHash('sha256').update(stored).digest('hex')).toBe(manifest.objects[0]!.sha256);
    expect(stored.length).toBe(manifest.objects[0]!.bytes);
    expect(plain.length).toBe(manifest.objects[0]!.rawBytes);
    expect(result.objects[0]!.sha256).toBe(manifest.objects[0]!.sha256);

    const restored = await createPgDatabase(pg, uniqueName('pgdst'));
    await run(join(pg.binDir, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', restored], {
      env: pgEnv(pg),
      input: plain,
    });
    const [a, b] = [await dumpOf(source), await dumpOf(restored)];
    expect(a).toContain('tâble ""with"" quotes');
    expect(a).toContain('日本語 テキスト 🎉');
    expect(b).toBe(a);
    // The sequence's position came back too.
    expect((await psql(pg, restored, 'SELECT last_value FROM sales.counter')).trim()).toBe('49');

    // The same object through the library path the restore command uses:
    // decryptStream → gunzip → engine.restore into another fresh database.
    const again = uniqueName('pgdst');
    const id = parseIdentityFile(await readFile(identityFile, 'utf8'));
    await postgresql.restore(
      {
        host: pg.host,
        port: pg.port,
        username: pg.user,
        password: pg.password,
        databases: [again],
        extraArgs: [],
      },
      again,
      Readable.from([stored]).pipe(decryptStream(id)).pipe(createGunzip()),
      {
        signal: new AbortController().signal,
        log: createLogger({ write: () => undefined }),
        format: 'sql',
      },
    );
    expect(await dumpOf(again)).toBe(a);
  });

  it('given pg_dump --format=custom in the options, when backed up to a directory, then pg_restore brings it back', async () => {
    const { identityFile, recipient } = await ageKeypair();
    const dir = join(identityFile, '..', 'backups');
    const r = await snapkeeper([
      'backup',
      pgUrl(pg, source),
      '--to',
      dir,
      '--recipient',
      recipient,
      '--dump-option=--format=custom',
      '--output',
      'json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const result = JSON.parse(r.stdout) as { manifestKey: string; objects: { key: string }[] };
    expect(result.objects[0]!.key).toMatch(
      new RegExp(
        `^local/${pg.host.replace(/\./g, '\\.')}/\\d{8}T\\d{6}\\.\\d{3}Z-[a-z2-9]{6}/${source}\\.dump\\.gz\\.age$`,
      ),
    );
    const manifest = manifestSchema.parse(
      JSON.parse(await readFile(join(dir, result.manifestKey), 'utf8')),
    );
    expect(manifest.objects[0]!.format).toBe('custom');

    const restored = uniqueName('pgcus');
    const id = parseIdentityFile(await readFile(identityFile, 'utf8'));
    const stored = await readFile(join(dir, result.objects[0]!.key));
    await postgresql.restore(
      {
        host: pg.host,
        port: pg.port,
        username: pg.user,
        password: pg.password,
        databases: [restored],
        extraArgs: [],
      },
      restored,
      Readable.from([stored]).pipe(decryptStream(id)).pipe(createGunzip()),
      {
        signal: new AbortController().signal,
        log: createLogger({ write: () => undefined }),
        format: 'custom',
      },
    );
    expect(await dumpOf(restored)).toBe(await dumpOf(source));
  });
});
