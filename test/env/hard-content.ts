// The hard cases of the round trips (schemas and names with quotes and
// non-ASCII, enums, JSON, binary, triggers, views, functions, 3,000 rows),
// loaded into the source databases by the integration and e2e suites alike.

export const PG_CONTENT = String.raw`
CREATE SCHEMA "Übersicht ""quoted""";
CREATE TYPE mood AS ENUM ('sad', 'it''s ok');
CREATE TABLE "Übersicht ""quoted""".notes (id serial PRIMARY KEY, body text, doc jsonb, raw bytea, m mood);
CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.body := NEW.body || '!'; RETURN NEW; END $$;
CREATE TRIGGER notes_bump BEFORE INSERT ON "Übersicht ""quoted""".notes FOR EACH ROW EXECUTE FUNCTION bump();
CREATE VIEW sad_notes AS SELECT id, body FROM "Übersicht ""quoted""".notes WHERE m = 'sad';
INSERT INTO "Übersicht ""quoted""".notes (body, doc, raw, m) VALUES
  (E'two\nlines ''and'' "quotes"', '{"k": ["ü", null]}', '\x00ff0a0d', 'sad'),
  ('日本語 🎉', '[]', '\x', 'it''s ok');
INSERT INTO "Übersicht ""quoted""".notes (body) SELECT 'row ' || g FROM generate_series(1, 3000) g;
`;

export const MY_CONTENT = String.raw`
SET NAMES utf8mb4;
CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, note TEXT, doc JSON, raw BLOB,
  mood ENUM('sad', 'it''s ok'), touched INT NOT NULL DEFAULT 0) DEFAULT CHARSET = utf8mb4;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW SET NEW.touched = OLD.touched + 1;
CREATE VIEW sad_orders AS SELECT id, note FROM orders WHERE mood = 'sad';
DELIMITER //
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2 //
DELIMITER ;
INSERT INTO orders (note, doc, raw, mood) VALUES
  ('two\nlines ''and'' "quotes"', '{"k": ["ü", null]}', X'00FF0A0D275C', 'sad'),
  ('日本語 🎉', '[]', X'', 'it''s ok');
INSERT INTO orders (note) SELECT CONCAT('row ', seq) FROM seq_1_to_3000;
UPDATE orders SET touched = twice(1) WHERE id = 1;
`;
