// The dump tools' stdout gets a 1 MiB stdio buffer (stdbuf), so the backup
// reads the dump in large pieces instead of pg_dump's and mysqldump's 8 KiB
// writes. Checked on the real tools: the pieces the backup's process reads,
// and that the bytes are the same as an unbuffered run's.
import { createHash } from 'node:crypto';
import { describe, expect, inject, it } from 'vitest';
import { mariadb } from '../../dumpers/mysql.js';
import { pgDumpCommand, postgresql } from '../../dumpers/postgresql.js';
import { startDump } from '../../dumpers/process.js';
import type { DumpHandle, DumpTarget } from '../../dumpers/types.js';
import { createLogger } from '../../src/log.js';
import { createMariaDatabase, createPgDatabase, mariadbExec, psql } from '../env/helpers.js';

const pg = inject('postgres');
const my = inject('mariadb');
const ctx = () => ({ signal: new AbortController().signal, log: createLogger({ level: 'error' }) });

/** Every piece the process read, then the tool's verdict. */
async function readAll(h: DumpHandle): Promise<{ pieces: number; bytes: Buffer }> {
  const chunks: Buffer[] = [];
  for await (const c of h.stdout) chunks.push(c as Buffer);
  await h.done;
  return { pieces: chunks.length, bytes: Buffer.concat(chunks) };
}

/** pg_dump's `\\restrict <key>` lines carry a random key per run. */
/** One database of a test server, as the engines take it. */
const targetOf = (
  server: { host: string; port: number; user: string; password: string },
  db: string,
): DumpTarget => ({
  host: server.host,
  port: server.port,
  username: server.user,
  password: server.password,
  databases: [db],
  extraArgs: [],
});

const sha = (b: Buffer) =>
  createHash('sha256')
    .update(b.toString('utf8').replace(/^\\(un)?restrict .*$/gm, '\\$1restrict <key>'))
    .digest('hex');

describe('dump tool output buffer', () => {
  it('pg_dump arrives in pieces of 48 KiB or more, byte for byte the same dump', async () => {
    const db = await createPgDatabase(pg);
    await psql(
      pg,
      db,
      `CREATE TABLE t (id int PRIMARY KEY, note text);
       INSERT INTO t SELECT i, repeat(md5(i::text), 3) FROM generate_series(1, 100000) i;`,
    );
    const target = targetOf(pg, db);
    const buffered = await readAll(postgresql.dump(target, db, ctx()));
    const plain = await readAll(startDump(pgDumpCommand(target, db), ctx()));
    expect(buffered.bytes.length).toBeGreaterThan(8 * 2 ** 20);
    expect(sha(buffered.bytes)).toBe(sha(plain.bytes));
    // Unbuffered, pg_dump writes 8 KiB at a time, and the reads follow them
    // (on an idle machine about 8 KiB each; the busier the reader, the more
    // it finds waiting). Buffered, each read takes what one read can: 64 KiB.
    expect(buffered.bytes.length / buffered.pieces).toBeGreaterThanOrEqual(48 * 1024);
  });

  it('mariadb-dump arrives in pieces of 48 KiB or more and is complete', async () => {
    const db = await createMariaDatabase(my);
    await mariadbExec(
      my,
      db,
      `CREATE TABLE t (id INT PRIMARY KEY, note TEXT);
       INSERT INTO t SELECT seq, REPEAT(MD5(seq), 3) FROM seq_1_to_100000;`,
    );
    const target = targetOf(my, db);
    const { pieces, bytes } = await readAll(mariadb.dump(target, db, ctx()));
    expect(bytes.length).toBeGreaterThan(8 * 2 ** 20);
    expect(bytes.toString('utf8').trimEnd()).toMatch(/-- Dump completed( on .*)?$/);
    expect(bytes.length / pieces).toBeGreaterThanOrEqual(48 * 1024);
  });
});
