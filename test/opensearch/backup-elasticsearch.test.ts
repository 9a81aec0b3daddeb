// A backup test is a restore test, against a real OpenSearch: indices with
// settings, a custom analyzer, strict and nested mappings, filtered and
// write aliases and a few thousand documents (non-ASCII, nested JSON) are
// backed up with `snapkeeper backup` (encrypted, to the S3 server, through
// a proxy that demands the password), the stored object is opened with the
// real `age -d`, `gunzip` and `tar -t`, the indices are deleted and
// `snapkeeper restore` brings them back: mappings, the settings that
// matter, aliases, analyzer output and every document compare equal. No
// process ever carries the password in its argv.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { delimiter, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { elasticsearch, makeElasticsearch } from '../../dumpers/elasticsearch.js';
import type { DumpTarget } from '../../dumpers/types.js';
import { createLogger } from '../../src/log.js';
import {
  N_EVENTS,
  N_PRODUCTS,
  allDocs as esDocs,
  esClient,
  esIndices,
  esSnapshot,
  loadEsContent,
} from '../env/es-content.js';
import { ageKeypair, exec, rcloneCat, rcloneList, uniqueName } from '../env/helpers.js';
import { binaries, repoRoot } from '../env/paths.js';
import {
  fetchDecryptGunzip,
  leftovers,
  s3Args,
  s3Env,
  snapkeeper,
  watchArgv,
} from '../integration/backup-support.js';

const opensearch = inject('opensearch');
const s3 = inject('s3');

const USER = 'elastic';
const PASSWORD = `Pw!${randomBytes(6).toString('hex')}:@/#`;
const p = uniqueName('es'); // es_<hex>: this run's index prefix
const { products, events, empty } = esIndices(p);

const es = esClient(opensearch.url);
const allDocs = (index: string) => esDocs(opensearch.url, index);
const snapshot = (index: string) => esSnapshot(opensearch.url, p, index);

/** A proxy in front of OpenSearch that answers 401 unless the request carries the password. */
function authProxy(): Promise<{ url: string; rejected: () => number; server: Server }> {
  const upstream = new URL(opensearch.url);
  const expected = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  let rejected = 0;
  const server = createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      rejected++;
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"error":"unauthorized"}');
      return;
    }
    const headers = { ...req.headers, host: upstream.host };
    delete headers.authorization;
    const up = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers },
      (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      },
    );
    up.on('error', (err) => {
      res.writeHead(502);
      res.end(String(err));
    });
    req.pipe(up);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `127.0.0.1:${(server.address() as AddressInfo).port}`,
        rejected: () => rejected,
        server,
      }),
    ),
  );
}

/** Processes sampled while `during` runs, with the elasticdump ones and any argv that held the password. */
async function watchElasticdump<T>(during: Promise<T>) {
  const r = await watchArgv(during, [PASSWORD]);
  return { ...r, seen: [...r.seen].filter((c) => c.includes('elasticdump')) };
}

/** The shell block under "By hand, the entries replay" in docs/restore.md. */
function docsByHandScript(): string {
  const doc = readFileSync(join(repoRoot, 'docs', 'restore.md'), 'utf8');
  const from = doc.indexOf('By hand, the entries replay');
  const block = /```sh\n([\s\S]*?)```/.exec(doc.slice(from));
  if (from < 0 || !block)
    throw new Error('docs/restore.md: the by-hand Elasticsearch block is gone');
  return block[1]!;
}

let proxy: Awaited<ReturnType<typeof authProxy>>;

beforeAll(async () => {
  proxy = await authProxy();
  await loadEsContent(opensearch.url, p);
}, 300_000);

afterAll(async () => {
  proxy?.server.close();
  await fetch(`${opensearch.url}/${p}-*`, { method: 'DELETE' }).catch(() => undefined);
});

const esUrl = () => `http://${USER}:${encodeURIComponent(PASSWORD)}@${proxy.url}`;

describe('Elasticsearch engine against OpenSearch', () => {
  it('backs up indices encrypted to S3 and restores them identical after they were deleted', async () => {
    const { identityFile, recipient } = await ageKeypair();
    const prefix = `${p}/roundtrip`;
    const before = {
      [products]: await snapshot(products),
      [events]: await snapshot(events),
      [empty]: await snapshot(empty),
    };
    expect(before[products]!.docs).toHaveLength(N_PRODUCTS);
    expect(before[events]!.docs).toHaveLength(N_EVENTS);
    expect(before[products]!.analyzed).toEqual(['creme', 'brulee', 'and', 'unicode', 'cafe']);

    // --- backup, watching every process's argv ---
    const backup = await watchElasticdump(
      snapkeeper(
        [
          'backup',
          esUrl(),
          '--databases',
          `${p}-*`,
          ...s3Args(s3, prefix),
          '--recipient',
          recipient,
          '--name',
          'shop/search',
          '-o',
          'json',
        ],
        s3Env(s3),
      ),
    );
    expect(backup.result.stderr).toBe('');
    expect(backup.result.code).toBe(0);
    expect(backup.seen.length).toBeGreaterThanOrEqual(4); // settings, mapping, alias, data (+ --version)
    expect(backup.leaked).toEqual([]);
    expect(backup.result.logs.join('\n')).not.toContain(PASSWORD);
    expect(proxy.rejected()).toBe(0);

    // --- the stored object: age -d | gunzip | tar -t, no snapkeeper code involved ---
    const objects = await rcloneList(s3, prefix);
    const dump = objects.find((o) => o.path.endsWith('.tar.gz.age'));
    const manifestPath = objects.find((o) => o.path.endsWith('manifest.json'));
    expect(dump, JSON.stringify(objects)).toBeDefined();
    const manifest = JSON.parse(
      (await rcloneCat(s3, `${prefix}/${manifestPath!.path}`)).toString(),
    ) as {
      engine: string;
      server: { version: string };
      client: { tool: string };
      objects: { format: string }[];
    };
    expect(manifest.engine).toBe('elasticsearch');
    expect(manifest.server.version).toMatch(/^\d+\.\d+\.\d+ \(opensearch\)$/);
    expect(manifest.client.tool).toBe('elasticdump');
    expect(manifest.objects[0]!.format).toBe('tar');

    const { plain } = await fetchDecryptGunzip(s3, `${prefix}/${dump!.path}`, identityFile);
    const listing = await exec('tar', ['-t'], { input: plain });
    expect(listing.code).toBe(0);
    const entries = listing.stdout.toString().trim().split('\n');
    expect(entries.slice(0, 1)).toEqual(['snapkeeper-elasticsearch.json']);
    expect(entries).toEqual(
      expect.arrayContaining([
        `settings/${products}.json`,
        `settings/${events}.json`,
        `settings/${empty}.json`,
        'mapping.json',
        'alias.json',
        'data/000000.json',
      ]),
    );
    // Not an all-indices dump: no cluster-level objects.
    expect(entries.filter((e) => /template|policy/.test(e))).toEqual([]);
    const docs = await exec('tar', ['-xO', '--wildcards', 'data/*'], { input: plain });
    expect(docs.stdout.toString().trim().split('\n')).toHaveLength(N_PRODUCTS + N_EVENTS);

    // --- delete, then restore ---
    await es('DELETE', `/${p}-*`);
    await expect(es('GET', `/${products}`)).rejects.toThrow(/404/);

    const restoreAll = () =>
      snapkeeper(
        [
          'restore',
          '--from',
          `s3://${s3.bucket}/${prefix}`,
          '--endpoint',
          s3.endpoint,
          '--region',
          s3.region,
          '--force-path-style',
          '--workload',
          'shop/search',
          '--identity',
          identityFile,
          '--to',
          esUrl(),
        ],
        s3Env(s3),
      );
    const restore = await watchElasticdump(restoreAll());
    expect(restore.result.stderr).toBe('');
    expect(restore.result.code).toBe(0);
    expect(restore.seen.length).toBeGreaterThanOrEqual(4);
    expect(restore.leaked).toEqual([]);

    for (const index of [products, events, empty]) {
      // elasticdump refreshes after its bulk writes; make it certain for the comparison.
      await es('POST', `/${index}/_refresh`);
      expect(await snapshot(index), index).toEqual(before[index]);
    }
    const sale = (await es('POST', `/${p}-sale/_count`, {})) as { count: number };
    expect(sale.count).toBe(N_PRODUCTS / 3);

    // A second restore must not merge into what is there.
    const again = await restoreAll();
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already has 3 of the backup's indices/);

    // --- by hand, without snapkeeper: the shell block of docs/restore.md ---
    await es('DELETE', `/${p}-*`);
    const byHand = await mkdtemp(join(tmpdir(), 'snapkeeper-es-by-hand-'));
    try {
      const { stored } = await fetchDecryptGunzip(s3, `${prefix}/${dump!.path}`, identityFile);
      await writeFile(join(byHand, 'search.tar.gz.age'), stored);
      await copyFile(identityFile, join(byHand, 'key.txt'));
      await writeFile(
        join(byHand, 'auth.ini'),
        `user=${USER}\npassword=${JSON.stringify(PASSWORD)}\n`,
        { mode: 0o600 },
      );
      const script = docsByHandScript().replaceAll(
        'https://search.example:9200',
        `http://${proxy.url}`,
      );
      const PATH = [
        join(repoRoot, 'node_modules', '.bin'),
        dirname(binaries.age()),
        process.env.PATH,
      ].join(delimiter);
      const rejectedBefore = proxy.rejected();
      const manual = await watchElasticdump(
        exec('bash', ['-euo', 'pipefail', '-c', script], {
          cwd: byHand,
          env: { ...process.env, PATH },
          timeoutMs: 600_000,
        }),
      );
      expect(manual.result.code, manual.result.stderr).toBe(0);
      expect(manual.leaked).toEqual([]);
      expect(proxy.rejected()).toBe(rejectedBefore);
      for (const index of [products, events, empty]) {
        await es('POST', `/${index}/_refresh`);
        expect(await snapshot(index), `${index}, restored by hand`).toEqual(before[index]);
      }
    } finally {
      await rm(byHand, { recursive: true, force: true });
    }
  });

  it("given a pattern naming a missing index, when backing up, then it fails with elasticdump's reason and leaves nothing in the bucket", async () => {
    const prefix = `${p}/missing`;
    const r = await snapkeeper(
      [
        'backup',
        esUrl(),
        '--databases',
        `${p}-nosuchindex`,
        ...s3Args(s3, prefix),
        '--name',
        'shop/search',
      ],
      s3Env(s3),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/elasticdump exited with code 1: .*index_not_found_exception/s);
    expect(r.stderr).not.toContain(PASSWORD);
    expect(await leftovers(s3, prefix)).toEqual({ objects: [], uploads: [] });
  });

  it('given a wrong password, when backing up, then it fails before any dump and leaves nothing', async () => {
    const prefix = `${p}/wrongpw`;
    const rejectedBefore = proxy.rejected();
    const r = await snapkeeper(
      [
        'backup',
        `http://${USER}:wrong@${proxy.url}`,
        ...s3Args(s3, prefix),
        '--name',
        'shop/search',
      ],
      s3Env(s3),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/refused the credentials \(HTTP 401, user elastic\)/);
    expect(proxy.rejected()).toBeGreaterThan(rejectedBefore);
    expect(await leftovers(s3, prefix)).toEqual({ objects: [], uploads: [] });
  });

  it('given small data chunks, when dumping one index, then the documents span many bounded entries and restore through one elasticdump', async () => {
    const chunkBytes = 32 * 1024;
    const engine = makeElasticsearch({ dataChunkBytes: chunkBytes });
    const hostPort = new URL(`http://${proxy.url}`);
    const target: DumpTarget = {
      host: hostPort.hostname,
      port: Number(hostPort.port),
      username: USER,
      password: PASSWORD,
      databases: [events],
      extraArgs: [],
      esLimit: 200,
    };
    const log = createLogger({ format: 'json', level: 'warn', write: () => undefined });
    const ctx = { signal: new AbortController().signal, log };
    const before = await allDocs(events);
    expect(before).toHaveLength(N_EVENTS);

    const handle = engine.dump(target, events, ctx);
    const parts: Buffer[] = [];
    handle.stdout.on('data', (c: Buffer) => parts.push(c));
    await handle.done;
    await new Promise((r) => setImmediate(r));
    const archive = Buffer.concat(parts);
    const listing = await exec('tar', ['-tv'], { input: archive });
    const data = listing.stdout
      .toString()
      .trim()
      .split('\n')
      .filter((l) => / data\/\d{6}\.json$/.test(l))
      .map((l) => Number(l.split(/\s+/)[2]));
    expect(data.length).toBeGreaterThanOrEqual(5);
    for (const size of data) expect(size).toBeLessThanOrEqual(chunkBytes);

    await es('DELETE', `/${events}`);
    await engine.restore(target, events, Readable.from([archive]), { ...ctx, format: 'tar' });
    await es('POST', `/${events}/_refresh`);
    expect(await allDocs(events)).toEqual(before);
  });

  it('given *, when dumping, then templates come along, system indices do not, and the dumped templates restore', async () => {
    await es('PUT', `/_component_template/${p}-ct`, {
      template: {
        settings: { number_of_replicas: 0 },
        mappings: { properties: { ts: { type: 'date' } } },
      },
    });
    await es('PUT', `/_index_template/${p}-it`, {
      index_patterns: [`${p}-tpl-*`],
      composed_of: [`${p}-ct`],
      priority: 17,
      template: { aliases: { [`${p}-tpl`]: {} } },
    });
    await es('PUT', `/_template/${p}-lt`, {
      index_patterns: [`${p}-legacy-*`],
      order: 3,
      settings: { number_of_shards: 1 },
    });
    // A dot-prefixed index, like the ones plugins keep their state in.
    await es('PUT', `/.${p}-system`, { settings: { number_of_replicas: 0 } });
    const want = {
      ct: await es('GET', `/_component_template/${p}-ct`),
      it: await es('GET', `/_index_template/${p}-it`),
      lt: await es('GET', `/_template/${p}-lt`),
    };

    const target: DumpTarget = {
      host: new URL(`http://${proxy.url}`).hostname,
      port: Number(new URL(`http://${proxy.url}`).port),
      username: USER,
      password: PASSWORD,
      databases: '*',
      extraArgs: [],
    };
    const log = createLogger({ format: 'json', level: 'warn', write: () => undefined });
    const ctx = { signal: new AbortController().signal, log };
    const handle = elasticsearch.dump(target, '*', ctx);
    const parts: Buffer[] = [];
    handle.stdout.on('data', (c: Buffer) => parts.push(c));
    await handle.done;
    await new Promise((r) => setImmediate(r));
    const archive = new Map<string, Buffer>();
    const extract = tar.extract();
    Readable.from([Buffer.concat(parts)]).pipe(extract);
    for await (const e of extract) {
      const chunks: Buffer[] = [];
      for await (const c of e) chunks.push(c as Buffer);
      archive.set(e.header.name, Buffer.concat(chunks));
    }
    const names = [...archive.keys()];
    expect(names).toEqual(
      expect.arrayContaining(['component_template.json', 'index_template.json', 'template.json']),
    );
    expect(names.filter((n) => n.startsWith('settings/.'))).toEqual([]);
    const meta = JSON.parse(archive.get('snapkeeper-elasticsearch.json')!.toString()) as {
      indices: string[];
      pattern: string;
    };
    expect(meta.pattern).toBe('*,-.*');
    expect(meta.indices).not.toContain(`.${p}-system`);
    for (const n of ['component_template.json', 'index_template.json', 'template.json']) {
      expect(archive.get(n)!.toString()).toContain(p);
    }

    // Restore only the cluster-level entries (the indices are still there).
    await es('DELETE', `/_index_template/${p}-it`);
    await es('DELETE', `/_component_template/${p}-ct`);
    await es('DELETE', `/_template/${p}-lt`);
    const pack = tar.pack();
    pack.entry({ name: 'snapkeeper-elasticsearch.json' }, JSON.stringify({ ...meta, indices: [] }));
    for (const n of ['component_template.json', 'index_template.json', 'template.json']) {
      pack.entry({ name: n }, archive.get(n)!);
    }
    pack.finalize();
    const chunks: Buffer[] = [];
    for await (const c of pack) chunks.push(c as Buffer);
    await elasticsearch.restore(target, '*', Readable.from([Buffer.concat(chunks)]), {
      ...ctx,
      format: 'tar',
    });
    expect(await es('GET', `/_component_template/${p}-ct`)).toEqual(want.ct);
    expect(await es('GET', `/_index_template/${p}-it`)).toEqual(want.it);
    expect(await es('GET', `/_template/${p}-lt`)).toEqual(want.lt);
    await es('DELETE', `/.${p}-system`);
  });
});
