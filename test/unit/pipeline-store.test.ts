// The stream in isolation: a dump handle made by hand (its stdout and its
// verdict are separate, as with a real tool), a real local-directory storage
// in a temporary directory.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import { generateIdentity, identityToRecipient, Decrypter } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import type { DumpHandle } from '../../dumpers/types.js';
import { DumpFailedError, OperationError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { EmptyDumpError, storeDump } from '../../src/pipeline/store.js';
import { LocalStorage } from '../../src/storage/local.js';
import type { Storage } from '../../src/storage/types.js';

const log = createLogger({ write: () => undefined });

/** A dump whose bytes end cleanly, and whose verdict arrives `delayMs` later. */
function handle(
  data: Buffer[],
  verdict: () => Error | null,
  delayMs = 50,
): DumpHandle & { killed: boolean } {
  const h = {
    stdout: Readable.from(data),
    done: (async () => {
      await sleep(delayMs);
      const err = verdict();
      if (err) throw err;
    })(),
    killed: false,
    kill() {
      h.killed = true;
    },
  };
  h.done.catch(() => undefined);
  return h;
}

async function files(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

async function tempStorage() {
  const dir = await mkdtemp(join(tmpdir(), 'pipeline-'));
  return { dir, storage: new LocalStorage(dir) };
}

describe('storeDump', () => {
  it('given a dump, when stored without encryption, then the object is its gzip and the counters and sha256 match', async () => {
    const { dir, storage } = await tempStorage();
    const chunks = Array.from({ length: 20 }, () => randomBytes(50_000));
    const r = await storeDump({
      dump: handle(chunks, () => null),
      tool: 'fake',
      storage,
      key: 'ns/w/t/db.sql.gz',
      recipients: [],
      log,
    });
    const stored = await readFile(join(dir, 'ns/w/t/db.sql.gz'));
    expect(gunzipSync(stored).equals(Buffer.concat(chunks))).toBe(true);
    expect(r.rawBytes).toBe(1_000_000);
    expect(r.bytes).toBe(stored.length);
    expect(r.sha256).toBe(createHash('sha256').update(stored).digest('hex'));
  });

  it('given recipients, when stored, then the object is an age file of the gzip', async () => {
    const { dir, storage } = await tempStorage();
    const id = await generateIdentity();
    const data = Buffer.from('SELECT 1;\n'.repeat(1000));
    await storeDump({
      dump: handle([data], () => null),
      tool: 'fake',
      storage,
      key: 'db.sql.gz.age',
      recipients: [await identityToRecipient(id)],
      log,
    });
    const d = new Decrypter();
    d.addIdentity(id);
    const plain = gunzipSync(await d.decrypt(await readFile(join(dir, 'db.sql.gz.age'))));
    expect(plain.equals(data)).toBe(true);
  });

  it("given a tool that fails only after its stdout ended cleanly, when stored, then the upload fails with the tool's error and nothing remains", async () => {
    const { dir, storage } = await tempStorage();
    const err = new DumpFailedError(
      'pg_dump',
      1,
      'FATAL: terminating connection due to administrator command',
    );
    const p = storeDump({
      dump: handle([randomBytes(100_000)], () => err, 300),
      tool: 'pg_dump',
      storage,
      key: 'a/db.sql.gz',
      recipients: [],
      log,
    });
    await expect(p).rejects.toBe(err);
    expect(await files(dir)).toEqual([]);
  });

  it('given a tool that exits 0 with no output, when stored, then it is an EmptyDumpError and nothing remains', async () => {
    const { dir, storage } = await tempStorage();
    const p = storeDump({
      dump: handle([], () => null),
      tool: 'mysqldump',
      storage,
      key: 'a/db.sql.gz',
      recipients: [],
      log,
    });
    await expect(p).rejects.toBeInstanceOf(EmptyDumpError);
    await expect(p).rejects.toThrow(/mysqldump produced an empty dump/);
    expect(await files(dir)).toEqual([]);
  });

  it('given a storage that fails mid-upload, when stored, then its error wins over the broken pipe, and the tool is killed', async () => {
    const failing: Storage = {
      description: 'failing',
      async upload(_key, body) {
        let n = 0;
        for await (const c of body) {
          n += (c as Buffer).length;
          if (n > 10_000) throw new OperationError('upload s3://b/k: connection reset');
        }
        return { bytes: n };
      },
      put: async () => undefined,
      get: async () => new PassThrough(),
      list: async function* () {},
      delete: async () => undefined,
    };
    // A tool that notices its broken pipe and fails with its own (less useful) message.
    const source = new PassThrough();
    const tool = handle([], () => null);
    const h: DumpHandle & { killed: boolean } = {
      stdout: source,
      done: new Promise<void>((_resolve, reject) => {
        source.on('close', () =>
          setTimeout(
            () => reject(new DumpFailedError('pg_dump', 1, 'could not write: Broken pipe')),
            20,
          ),
        );
      }),
      killed: false,
      kill() {
        h.killed = true;
      },
    };
    h.done.catch(() => undefined);
    void tool;
    const feeding = (async () => {
      for (let i = 0; i < 200 && !source.destroyed; i++) {
        source.write(randomBytes(16_384));
        await sleep(1);
      }
    })();
    const p = storeDump({
      dump: h,
      tool: 'pg_dump',
      storage: failing,
      key: 'k',
      recipients: [],
      log,
    });
    await expect(p).rejects.toThrow(/connection reset/);
    expect(h.killed).toBe(true);
    await feeding;
  });

  it('given an abort signal, when it fires mid-stream, then the store rejects and nothing remains', async () => {
    const { dir, storage } = await tempStorage();
    const source = new PassThrough();
    const ac = new AbortController();
    const h: DumpHandle = {
      stdout: source,
      done: new Promise<void>((_res, rej) => source.on('close', () => rej(new Error('killed')))),
      kill: () => source.destroy(),
    };
    h.done.catch(() => undefined);
    const p = storeDump({
      dump: h,
      tool: 't',
      storage,
      key: 'x/y.sql.gz',
      recipients: [],
      log,
      signal: ac.signal,
    });
    source.write(randomBytes(1000));
    await sleep(50);
    ac.abort();
    await expect(p).rejects.toThrow();
    expect(await files(dir)).toEqual([]);
  });
});
