// restore-test of an Elasticsearch / OpenSearch backup against a real
// OpenSearch: the manifest counts documents per index, indices and aliases
// as the archive streams; without --to the archive checks run (and say so);
// with --to the backup is restored into a server (here: the same one, after
// its indices were deleted) and the documents counted there.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Manifest } from '../../src/manifest.js';
import type { RestoreTestResult } from '../../src/restoretest/result.js';
import { uniqueName } from '../env/helpers.js';
import { snapkeeper } from '../integration/backup-support.js';
import { readFile, readdir } from 'node:fs/promises';

const opensearch = inject('opensearch');
const p = uniqueName('rtes');

async function es(method: string, path: string, body?: string, type = 'application/json') {
  const r = await fetch(`${opensearch.url}${path}`, {
    method,
    headers: { 'content-type': type },
    body,
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status} ${text}`);
  return text ? (JSON.parse(text) as unknown) : undefined;
}

async function index(name: string, docs: number) {
  await es('PUT', `/${name}`, JSON.stringify({ settings: { number_of_replicas: 0 } }));
  const lines: string[] = [];
  for (let i = 0; i < docs; i++)
    lines.push(
      JSON.stringify({ index: { _index: name, _id: String(i) } }),
      JSON.stringify({ n: i, text: `line ${i}\n"quoted" {braces}`, tag: 'ü' }),
    );
  if (docs > 0)
    await es('POST', '/_bulk?refresh=true', lines.join('\n') + '\n', 'application/x-ndjson');
}

let dir: string;
let manifest: Manifest;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapkeeper-rtes-'));
  await index(`${p}-a`, 1234);
  await index(`${p}-b`, 7);
  await index(`${p}-empty`, 0);
  await es(
    'POST',
    '/_aliases',
    JSON.stringify({ actions: [{ add: { index: `${p}-a`, alias: `${p}-alias` } }] }),
  );
  const b = await snapkeeper([
    'backup',
    opensearch.url,
    '--databases',
    `${p}-*`,
    '--to',
    dir,
    '--name',
    'shop/search',
  ]);
  expect(b.stderr).toBe('');
  expect(b.code).toBe(0);
  const root = join(dir, 'shop', 'search');
  const [id] = await readdir(root);
  manifest = JSON.parse(await readFile(join(root, id!, 'manifest.json'), 'utf8')) as Manifest;
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('Elasticsearch: counts and restore-test', () => {
  it('given the backup, then the manifest counts documents per index, indices and aliases', () => {
    const [c] = manifest.contents!;
    const rows = Object.fromEntries(c!.tables!.map((t) => [t.name, t.rows]));
    expect(rows).toEqual({ [`${p}-a`]: 1234, [`${p}-b`]: 7, [`${p}-empty`]: 0 });
    expect(c!.objects).toEqual({ indexes: 3, aliases: 1 });
  });

  it('given no --to, then the archive checks run, compare equal and say that is all', async () => {
    const r = await snapkeeper(['restore-test', '--from', dir, '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as RestoreTestResult;
    expect(out.target).toBe('archive');
    expect(out.notes[0]).toMatch(/^archive checks only: no server to restore into/);
    expect(out.databases[0]!.tables).toContainEqual({
      name: `${p}-a`,
      backup: 1234,
      restored: 1234,
    });
  });

  it('given --to a server without those indices, then it restores and counts the documents there', async () => {
    await es('DELETE', `/${p}-a,${p}-b,${p}-empty`);
    const r = await snapkeeper(['restore-test', '--from', dir, '--to', opensearch.url]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`${p}-a\\s+rows\\s+1234\\s+1234\\s+ok`));
    expect(r.stdout).toMatch(/aliases\s+count\s+1\s+1\s+ok/);
  });
});
