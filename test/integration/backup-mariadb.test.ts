// A backup test is a restore test, for MariaDB (and mysql:// through the
// same server): hard content backed up encrypted to S3, read back with
// rclone, decrypted with the reference `age`, gunzipped, restored with the
// mariadb client into a fresh database; both databases dump identically.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { mariadb } from '../../dumpers/mysql.js';
import { parseIdentityFile } from '../../src/crypto/age-keys.js';
import { decryptStream } from '../../src/crypto/age.js';
import { createLogger } from '../../src/log.js';
import { manifestSchema } from '../../src/manifest.js';
import {
  ageKeypair,
  createMariaDatabase,
  mariadbArgs,
  mariadbEnv,
  mariadbExec,
  mariadbUrl,
  rcloneCat,
  rcloneList,
  run,
  uniqueName,
  mariadbDumpText,
} from '../env/helpers.js';
import { fetchDecryptGunzip, s3Args, s3Env, snapkeeper } from './backup-support.js';

const my = inject('mariadb');
const s3 = inject('s3');

/** Hard content: non-ASCII names, quotes/newlines, BLOBs, JSON, enums, views, routines, triggers, events, partitions. */
export const MARIADB_HARD_CONTENT =
  String.raw`
SET NAMES utf8mb4;
CREATE TABLE orders (
  id INT AUTO_INCREMENT PRIMARY KEY,
  note TEXT,
  doc JSON,
  raw BLOB,
  mood ENUM('sad', 'ok', 'happy', 'it''s complicated'),
  price DECIMAL(12, 4),
  touched INT NOT NULL DEFAULT 0
) DEFAULT CHARSET = utf8mb4;
CREATE TABLE ` +
  '`tâble "with" ``quotes```' +
  String.raw` (
  id BIGINT AUTO_INCREMENT PRIMARY KEY,
  ` +
  '`naïve column`' +
  String.raw` VARCHAR(200)
) DEFAULT CHARSET = utf8mb4;
CREATE TABLE events (id INT NOT NULL, at DATE NOT NULL, payload TEXT, PRIMARY KEY (id, at))
  PARTITION BY RANGE (YEAR(at)) (PARTITION p2025 VALUES LESS THAN (2026), PARTITION pmax VALUES LESS THAN MAXVALUE);
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW SET NEW.touched = OLD.touched + 1;
DELIMITER //
CREATE PROCEDURE add_order(IN n TEXT)
BEGIN
  INSERT INTO orders (note, mood) VALUES (n, 'ok');
END //
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2 //
DELIMITER ;
CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 03:00:00' DISABLE
  DO DELETE FROM events WHERE at < '2000-01-01';
CREATE VIEW happy_orders AS SELECT id, note FROM orders WHERE mood = 'happy';
INSERT INTO orders (note, doc, raw, mood, price) VALUES
  ('line one\nline two\ttab \\ backslash', '{"a": [1, 2, {"b": "ç\\"q"}], "n": null}', X'00FF00DEADBEEF0A0D27225C', 'happy', 12.3456),
  ('it''s "quoted" and ; semicolon -- not a comment', '[]', X'', 'it''s complicated', -0.0001),
  (NULL, NULL, NULL, NULL, NULL),
  ('日本語 テキスト 🎉', '{"emoji": "🎉"}', REPEAT(X'00', 300), 'sad', 99999999.9999);
CALL add_order('from a procedure');
UPDATE orders SET price = twice(3) WHERE note = 'from a procedure';
INSERT INTO ` +
  '`tâble "with" ``quotes```' +
  String.raw` (` +
  '`naïve column`' +
  String.raw`) VALUES ('déjà vu'), ('\\N is not null');
INSERT INTO events SELECT seq, DATE '2025-06-01' + INTERVAL seq DAY, CONCAT('event ', seq) FROM seq_1_to_400;
INSERT INTO orders (note, mood, price) SELECT CONCAT('row ', seq, '\n', MD5(seq)), 'ok', seq / 3 FROM seq_1_to_5000;
`;

const dumpOf = (db: string) => mariadbDumpText(my, db);

const quiet = () => ({
  signal: new AbortController().signal,
  log: createLogger({ write: () => undefined }),
});

describe('backup mariadb → S3, encrypted', () => {
  let source: string;
  beforeAll(async () => {
    source = await createMariaDatabase(my, uniqueName('mysrc'));
    await mariadbExec(my, source, MARIADB_HARD_CONTENT);
  });

  it.each(['mariadb', 'mysql'] as const)(
    'given hard content and a %s:// URL, when backed up and restored with age, gunzip and mariadb, then both databases dump identically',
    async (scheme) => {
      const { identityFile, recipient } = await ageKeypair();
      const prefix = uniqueName('myrt');
      const r = await snapkeeper(
        [
          'backup',
          mariadbUrl(my, source, scheme),
          ...s3Args(s3, prefix),
          '--recipient',
          recipient,
          '--name',
          'shop/mariadb',
          '--output',
          'json',
        ],
        s3Env(s3),
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);

      const listed = (await rcloneList(s3, prefix)).map((e) => e.path);
      const dumpPath = listed.find((p) => p.endsWith('.sql.gz.age'));
      const manifestPath = listed.find((p) => p.endsWith('/manifest.json'));
      expect(listed).toHaveLength(2);
      expect(dumpPath).toMatch(
        new RegExp(`^shop/mariadb/\\d{8}T\\d{6}\\.\\d{3}Z-[a-z2-9]{6}/${source}\\.sql\\.gz\\.age$`),
      );
      const manifest = manifestSchema.parse(
        JSON.parse((await rcloneCat(s3, `${prefix}/${manifestPath}`)).toString()),
      );
      expect(manifest.engine).toBe(scheme);
      expect(manifest.server.version).toBe((await mariadbExec(my, '', 'SELECT VERSION()')).trim());

      const { stored, plain } = await fetchDecryptGunzip(s3, `${prefix}/${dumpPath}`, identityFile);
      expect(createHash('sha256').update(stored).digest('hex')).toBe(manifest.objects[0]!.sha256);
      expect(plain.length).toBe(manifest.objects[0]!.rawBytes);

      const restored = await createMariaDatabase(my, uniqueName('mydst'));
      await run(join(my.binDir, 'mariadb'), [...mariadbArgs(my), '--binary-mode', restored], {
        env: mariadbEnv(my),
        input: plain,
      });
      const [a, b] = [await dumpOf(source), await dumpOf(restored)];
      expect(a).toContain('tâble "with" ``quotes``');
      expect(a).toContain('CREATE DEFINER');
      expect(a).toContain('EVENT `nightly`');
      expect(a).toMatch(/PARTITION `?p2025/);
      expect(b).toBe(a);
      expect((await mariadbExec(my, restored, 'SELECT twice(21)')).trim()).toBe('42');

      // The library path of `restore --to`: decryptStream → gunzip → engine.restore, creating the database.
      const again = uniqueName('mydst');
      const id = parseIdentityFile(await readFile(identityFile, 'utf8'));
      await mariadb.restore(
        {
          host: my.host,
          port: my.port,
          username: my.user,
          password: my.password,
          databases: [again],
          extraArgs: [],
        },
        again,
        Readable.from([stored]).pipe(decryptStream(id)).pipe(createGunzip()),
        { ...quiet(), format: 'sql' },
      );
      expect(await dumpOf(again)).toBe(a);
    },
  );
});
