import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { AlreadyExistsError, NotFoundError } from '../../src/storage/errors.js';
import { LocalStorage } from '../../src/storage/local.js';

let dir: string;
let storage: LocalStorage;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapkeeper-local-'));
  storage = new LocalStorage(dir);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function keys(prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const o of storage.list(prefix)) out.push(o.key);
  return out.sort();
}

/** A stream that yields some chunks, then fails. */
function failing(afterChunks: number): Readable {
  let n = 0;
  return new Readable({
    read() {
      if (n++ < afterChunks) this.push(Buffer.alloc(1024, 1));
      else this.destroy(new Error('dump tool died'));
    },
  });
}

describe('LocalStorage', () => {
  it('given a key with slashes, when uploaded, then it is a file in subdirectories and reads back', async () => {
    const { bytes } = await storage.upload(
      'ns/db/20261120T030000Z/app.sql.gz',
      Readable.from(['hello ', 'world']),
    );
    expect(bytes).toBe(11);
    expect(await readdir(join(dir, 'ns', 'db', '20261120T030000Z'))).toEqual(['app.sql.gz']);
    expect(await text(await storage.get('ns/db/20261120T030000Z/app.sql.gz'))).toBe('hello world');
  });

  it('given a body that fails half-way, when uploaded, then it rejects and nothing is left, not even the directories it made', async () => {
    await expect(storage.upload('ns/db/t/app.sql.gz', failing(5))).rejects.toThrow(
      /dump tool died/,
    );
    expect(await readdir(dir)).toEqual([]);
    expect(await keys()).toEqual([]);
  });

  it('given a directory that existed, when an upload below it fails, then only what the upload made goes', async () => {
    await storage.put('ns/db/t1/app.sql.gz', 'kept');
    await expect(storage.upload('ns/db/t2/app.sql.gz', failing(2))).rejects.toThrow(
      /dump tool died/,
    );
    expect(await readdir(join(dir, 'ns', 'db'))).toEqual(['t1']);
    expect(await keys()).toEqual(['ns/db/t1/app.sql.gz']);
  });

  it('given a temporary file a killed upload left, then listIncomplete finds it under its prefix only, and abortIncomplete removes it and its emptied directories', async () => {
    await storage.put('ns/db/t1/app.sql.gz', 'kept');
    await mkdir(join(dir, 'ns', 'db', 't2'), { recursive: true });
    await writeFile(join(dir, 'ns', 'db', 't2', '.snapkeeper-partial-0123'), 'half');
    await mkdir(join(dir, 'ns', 'dbx', 't2'), { recursive: true });
    await writeFile(join(dir, 'ns', 'dbx', 't2', '.snapkeeper-partial-4567'), 'half');
    const found = [];
    for await (const u of storage.listIncomplete('ns/db/')) found.push(u);
    expect(found.map((u) => u.key)).toEqual(['ns/db/t2/.snapkeeper-partial-0123']);
    expect(found[0]!.started).toBeInstanceOf(Date);
    await storage.abortIncomplete(found[0]!);
    expect(await readdir(join(dir, 'ns', 'db'))).toEqual(['t1']);
    expect(await keys('ns/')).toEqual(['ns/db/t1/app.sql.gz']);
    await expect(
      storage.abortIncomplete({ key: 'ns/db/t1/app.sql.gz', id: 'x', started: new Date() }),
    ).rejects.toThrow(/not a temporary file/);
  });

  it('given an aborted signal, when uploading, then it rejects and removes the temp file', async () => {
    const ac = new AbortController();
    const body = new Readable({ read() {} }); // never ends
    body.push('partial');
    const p = storage.upload('a/b.gz', body, { signal: ac.signal });
    setTimeout(() => ac.abort(), 20);
    await expect(p).rejects.toThrow(/abort/i);
    expect(await readdir(dir)).toEqual([]);
  });

  it('given keys that climb out of the root, then they are refused', async () => {
    for (const k of ['../x', 'a/../../x', '/etc/passwd', 'a//b', '', 'a/./b']) {
      await expect(storage.put(k, 'x')).rejects.toBeInstanceOf(UserError);
    }
  });

  it('given nested objects, when listing a string prefix, then it matches like S3', async () => {
    await storage.put('shop/pg/1/manifest.json', '{}');
    await storage.put('shop/pg/2/manifest.json', '{}');
    await storage.put('shop/pgx/1/manifest.json', '{}');
    await storage.put('other/x', 'x');
    expect(await keys('shop/pg/')).toEqual(['shop/pg/1/manifest.json', 'shop/pg/2/manifest.json']);
    expect(await keys('shop/pg')).toEqual([
      'shop/pg/1/manifest.json',
      'shop/pg/2/manifest.json',
      'shop/pgx/1/manifest.json',
    ]);
    expect(await keys('missing/')).toEqual([]);
    expect((await keys()).length).toBe(4);
  });

  it('given a missing key, when read, then NotFoundError', async () => {
    await expect(storage.get('nope/x')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('given objects, when deleted, then files and emptied directories go, missing keys are fine', async () => {
    await storage.put('shop/pg/1/a', 'a');
    await storage.put('shop/pg/1/manifest.json', '{}');
    await storage.put('shop/pg/2/a', 'a');
    await storage.delete(['shop/pg/1/a', 'shop/pg/1/manifest.json', 'shop/pg/1/gone']);
    expect(await keys()).toEqual(['shop/pg/2/a']);
    expect(await readdir(join(dir, 'shop', 'pg'))).toEqual(['2']);
  });

  it('given ten exclusive writers of one key at once, then exactly one wins and the others get AlreadyExistsError', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        i % 2 === 0
          ? storage.put('shop/pg/1/manifest.json', `writer ${i}`, { exclusive: true })
          : storage.upload('shop/pg/1/manifest.json', Readable.from([`writer ${i}`]), {
              exclusive: true,
            }),
      ),
    );
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    for (const r of results)
      if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(AlreadyExistsError);
    expect(await text(await storage.get('shop/pg/1/manifest.json'))).toBe(`writer ${won[0]}`);
    expect(await readdir(join(dir, 'shop', 'pg', '1'))).toEqual(['manifest.json']);
  });

  it('given an existing file, when written without exclusive, then it is replaced (as before)', async () => {
    await storage.put('a/b', 'one');
    await storage.put('a/b', 'two');
    expect(await text(await storage.get('a/b'))).toBe('two');
  });
});
