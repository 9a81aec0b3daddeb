import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { UserError } from '../../src/errors.js';
import { abortStaleUploads, parseAge } from '../../src/retention/stale.js';
import type { IncompleteUpload, Storage } from '../../src/storage/types.js';

/** A storage holding open uploads; abortIncomplete removes them. */
function withUploads(uploads: IncompleteUpload[]): Storage & { open: IncompleteUpload[] } {
  const open = [...uploads];
  return {
    open,
    description: 'fake',
    upload: async () => ({ bytes: 0 }),
    put: async () => undefined,
    get: async () => new PassThrough(),
    list: async function* () {},
    delete: async () => undefined,
    async *listIncomplete(prefix) {
      yield* open.filter((u) => u.key.startsWith(prefix));
    },
    async abortIncomplete(u) {
      open.splice(open.indexOf(u), 1);
    },
  };
}

const now = new Date('2026-11-20T12:00:00Z');
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
const upload = (key: string, started: Date): IncompleteUpload => ({ key, id: key, started });

describe('parseAge', () => {
  it.each([
    ['24h', 86_400_000],
    ['90m', 5_400_000],
    ['2d', 172_800_000],
    ['0s', 0],
    [' 30s ', 30_000],
  ])('given %j, then %d ms', (text, ms) => {
    expect(parseAge(text)).toEqual({ ok: true, ms });
  });

  it.each(['', '24', 'h', '-1h', '1.5h', '1w', 'a day'])('given %j, then an error', (text) => {
    expect(parseAge(text)).toMatchObject({ ok: false, error: expect.stringMatching(/not an age/) });
  });
});

describe('abortStaleUploads', () => {
  it('given uploads of all ages and a neighbour prefix, when 24h, then only the old ones of the workload go', async () => {
    const old = upload('shop/pg/20261118T030000Z/app.sql.gz', hoursAgo(48));
    const exactly = upload('shop/pg/20261119T120000Z/app.sql.gz', hoursAgo(24));
    const young = upload('shop/pg/20261120T030000Z/app.sql.gz', hoursAgo(9));
    const neighbour = upload('shop/pgx/20261118T030000Z/app.sql.gz', hoursAgo(48));
    const s = withUploads([old, exactly, young, neighbour]);

    const dry = await abortStaleUploads(s, 'shop/pg', {
      now,
      olderThanMs: 24 * 3_600_000,
      dryRun: true,
    });
    expect(dry).toEqual([old, exactly]);
    expect(s.open).toHaveLength(4);

    const done = await abortStaleUploads(s, 'shop/pg/', { now, olderThanMs: 24 * 3_600_000 });
    expect(done).toEqual([old, exactly]);
    expect(s.open).toEqual([young, neighbour]);
  });

  it('given an empty prefix, then UserError: never the whole storage', async () => {
    await expect(
      abortStaleUploads(withUploads([]), '/', { now, olderThanMs: 0 }),
    ).rejects.toBeInstanceOf(UserError);
  });

  it('given a storage without the notion, then nothing', async () => {
    const s = withUploads([]);
    delete s.listIncomplete;
    expect(await abortStaleUploads(s, 'shop/pg/', { now, olderThanMs: 0 })).toEqual([]);
  });
});
