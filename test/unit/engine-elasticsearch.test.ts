import { describe, expect, it } from 'vitest';
import {
  elasticdumpDumpCommand,
  elasticdumpEnv,
  elasticdumpRestoreCommand,
  elasticsearch,
} from '../../dumpers/elasticsearch.js';
import {
  classifyEntry,
  dataEntryName,
  settingsEntryName,
} from '../../dumpers/elasticsearch/archive.js';
import {
  filterAliases,
  hasClusterObjects,
  mappingFields,
  splitSettings,
} from '../../dumpers/elasticsearch/elasticdump-output.js';
import { indexPatternFor, patternProblem } from '../../dumpers/elasticsearch/indices.js';
import { LineChunker } from '../../dumpers/elasticsearch/line-chunker.js';
import {
  countLines,
  expectedWrites,
  parseTotalWrites,
} from '../../dumpers/elasticsearch/write-counts.js';
import {
  authHeader,
  baseUrl,
  clusterListPath,
  describeServer,
  listingHasObjects,
  type EsServer,
} from '../../dumpers/elasticsearch/http.js';
import { getEngine } from '../../dumpers/index.js';
import type { DumpTarget } from '../../dumpers/types.js';
import { parseDbUrl } from '../../src/dburl.js';

const secret = 'p@ss:w/ord "x" é';
const target = (over: Partial<DumpTarget> = {}): DumpTarget => ({
  host: 'es.shop.svc',
  port: 9200,
  username: 'elastic',
  password: secret,
  databases: '*',
  extraArgs: [],
  ...over,
});
const os: EsServer = { number: '2.19.1', distribution: 'opensearch' };
const es: EsServer = { number: '8.15.0', distribution: 'elasticsearch' };
const noSecret = (args: string[]) => {
  const text = args.join(' ');
  expect(text).not.toContain('p@ss');
  expect(text).not.toContain(encodeURIComponent(secret));
};

describe('elasticdump commands', () => {
  it('given a password, when building a dump run, then the URL carries no credentials and the password is only in ELASTICDUMP_INPUT_*', () => {
    const cmd = elasticdumpDumpCommand('/bin/elasticdump', target(), es, 'data', 'logs-*');
    expect(cmd.args).toEqual([
      '--input=http://es.shop.svc:9200/logs-*',
      '--output=$',
      '--type=data',
      '--limit=1000',
    ]);
    expect(cmd.env.ELASTICDUMP_INPUT_USERNAME).toBe('elastic');
    expect(cmd.env.ELASTICDUMP_INPUT_PASSWORD).toBe(secret);
    expect(cmd.env.ELASTICDUMP_OUTPUT_PASSWORD).toBeUndefined();
    noSecret(cmd.args);
  });

  it('given OpenSearch, esLimit, TLS and extra options, when building, then --force-os-version, --limit, https and the options follow', () => {
    const cmd = elasticdumpDumpCommand(
      'ed',
      target({ esLimit: 250, tls: true, extraArgs: ['--searchBody={"query":{"match_all":{}}}'] }),
      os,
      'mapping',
      '*,-.*',
    );
    expect(cmd.args).toEqual([
      '--input=https://es.shop.svc:9200/*,-.*',
      '--output=$',
      '--type=mapping',
      '--limit=250',
      '--force-os-version=7.10.2',
      '--searchBody={"query":{"match_all":{}}}',
    ]);
  });

  it('given a cluster-level type, when building, then the input is the server without an index', () => {
    const cmd = elasticdumpDumpCommand('ed', target(), os, 'index_template', undefined);
    expect(cmd.args[0]).toBe('--input=http://es.shop.svc:9200');
  });

  it('given an IPv6 host, when building, then it is bracketed', () => {
    expect(baseUrl(target({ host: '::1' }))).toBe('http://[::1]:9200');
  });

  it('given a restore, when building, then output carries the index (settings) and the password is in ELASTICDUMP_OUTPUT_* only; data fails on write errors', () => {
    const s = elasticdumpRestoreCommand('ed', target(), os, 'settings', 'shop');
    expect(s.args).toEqual([
      '--input=$',
      '--output=http://es.shop.svc:9200/shop',
      '--type=settings',
      '--limit=1000',
      '--force-os-version=7.10.2',
    ]);
    expect(s.env.ELASTICDUMP_OUTPUT_PASSWORD).toBe(secret);
    expect(s.env.ELASTICDUMP_INPUT_PASSWORD).toBeUndefined();
    const d = elasticdumpRestoreCommand('ed', target(), es, 'data');
    expect(d.args).toContain('--ignore-es-write-errors=false');
    expect(d.args).not.toContain('--quiet'); // "Total Writes" is read back
    noSecret([...s.args, ...d.args]);
  });

  it('given a password without a user, when building, then the user is elastic; given no password, then no credentials at all', () => {
    expect(elasticdumpEnv(target({ username: undefined }), 'input', {})).toEqual({
      ELASTICDUMP_INPUT_USERNAME: 'elastic',
      ELASTICDUMP_INPUT_PASSWORD: secret,
    });
    expect(
      elasticdumpEnv(target({ username: undefined, password: undefined }), 'input', {}),
    ).toEqual({});
    expect(authHeader(target({ username: 'u', password: 'p' }))).toEqual({
      authorization: `Basic ${Buffer.from('u:p').toString('base64')}`,
    });
  });

  it('given NODE_EXTRA_CA_CERTS, when building the env, then the CA bundle reaches elasticdump', () => {
    expect(
      elasticdumpEnv(target(), 'output', { NODE_EXTRA_CA_CERTS: '/ca.pem' }).NODE_EXTRA_CA_CERTS,
    ).toBe('/ca.pem');
  });
});

describe('the engine contract', () => {
  it('is registered, on 9200, producing tar', () => {
    const e = getEngine('elasticsearch');
    expect(e).toBe(elasticsearch);
    expect(e.defaultPort).toBe(9200);
    expect(e.output(target())).toEqual({ format: 'tar', extension: 'tar' });
  });

  it('given http(s) URLs, when parsed, then they target every index', () => {
    const u = parseDbUrl('https://elastic:pw@es.example:9243');
    expect(u.engine).toBe('elasticsearch');
    expect(u.target).toMatchObject({ port: 9243, tls: true, databases: '*', password: 'pw' });
    expect(parseDbUrl('http://es.example').target.port).toBe(9200);
  });

  it('describes servers and where their cluster-level objects are listed', () => {
    expect(describeServer(os)).toBe('2.19.1 (opensearch)');
    expect(describeServer(es)).toBe('8.15.0');
    expect(clusterListPath('policy', os)).toBe('/_plugins/_ism/policies');
    expect(clusterListPath('policy', es)).toBe('/_ilm/policy');
    expect(
      clusterListPath('index_template', { number: '7.7.1', distribution: 'elasticsearch' }),
    ).toBe(undefined);
    expect(
      clusterListPath('component_template', { number: '7.8.0', distribution: 'elasticsearch' }),
    ).toBe('/_component_template');
    expect(listingHasObjects({})).toBe(false);
    expect(listingHasObjects({ index_templates: [] })).toBe(false);
    expect(listingHasObjects({ policies: [], total_policies: 0 })).toBe(false);
    expect(listingHasObjects({ t1: {} })).toBe(true);
  });
});

describe('archive layout', () => {
  it('given *, when choosing the pattern, then dot-prefixed indices are left out; bad patterns are named', () => {
    expect(indexPatternFor('*')).toBe('*,-.*');
    expect(indexPatternFor('logs-*')).toBe('logs-*');
    expect(patternProblem('a/b')).toMatch(/not an index pattern/);
    expect(patternProblem('x?y')).toMatch(/not an index pattern/);
    expect(patternProblem('')).toMatch(/empty/);
    expect(patternProblem('.kibana*,orders')).toBeUndefined();
  });

  it('names and classifies entries', () => {
    expect(settingsEntryName('shop')).toBe('settings/shop.json');
    expect(dataEntryName(7)).toBe('data/000007.json');
    expect(classifyEntry('snapkeeper-elasticsearch.json')).toEqual({ kind: 'metadata' });
    expect(classifyEntry('settings/shop.v2.json')).toEqual({ kind: 'settings', index: 'shop.v2' });
    expect(classifyEntry('settings/../x.json')).toBeUndefined();
    expect(classifyEntry('data/000012.json')).toEqual({ kind: 'data', chunk: 12 });
    expect(classifyEntry('index_template.json')).toEqual({ kind: 'index_template' });
    expect(classifyEntry('mapping.json')).toEqual({ kind: 'mapping' });
    expect(classifyEntry('analyzer.json')).toBeUndefined();
    expect(classifyEntry('../etc/passwd')).toBeUndefined();
  });

  it("given elasticdump's settings output for a pattern, when split, then one entry per index, identity settings and the pattern's empty key gone, in elasticdump's file format", () => {
    const raw = JSON.stringify(
      JSON.stringify({
        shop: {
          settings: {
            index: {
              number_of_shards: '2',
              provided_name: 'shop',
              creation_date: '1',
              uuid: 'u',
              version: { created: '1' },
              analysis: { analyzer: { folding: { tokenizer: 'standard' } } },
            },
          },
        },
        empty: { settings: { index: { number_of_shards: '1', uuid: 'v' } } },
        '*,-.*': {},
      }),
    );
    const split = splitSettings(raw + '\n', '*,-.*');
    expect([...split.keys()]).toEqual(['shop', 'empty']);
    const shop = JSON.parse(JSON.parse(split.get('shop')!) as string) as unknown;
    expect(shop).toEqual({
      shop: {
        settings: {
          index: {
            number_of_shards: '2',
            analysis: { analyzer: { folding: { tokenizer: 'standard' } } },
          },
        },
      },
    });
  });

  it('given aliases output, when filtered, then indices without aliases go; none left: no entry', () => {
    const raw = JSON.stringify(JSON.stringify({ a: { aliases: { r: {} } }, b: { aliases: {} } }));
    expect(JSON.parse(JSON.parse(filterAliases(raw)!) as string)).toEqual({
      a: { aliases: { r: {} } },
    });
    expect(filterAliases(JSON.stringify(JSON.stringify({ b: { aliases: {} } })))).toBeUndefined();
  });

  it('tells empty template listings from full ones, and counts what a restore must write', () => {
    const empty = JSON.stringify(JSON.stringify({ index_templates: [] }));
    const one = JSON.stringify(
      JSON.stringify({ index_templates: [{ name: 'x', index_template: {} }] }),
    );
    expect(hasClusterObjects(empty, 'index_template')).toBe(false);
    expect(hasClusterObjects(one, 'index_template')).toBe(true);
    expect(hasClusterObjects(JSON.stringify(JSON.stringify({})), 'template')).toBe(false);
    expect(expectedWrites('index_template', one)).toBe(1);
    expect(expectedWrites('settings', '"{}"')).toBe(1);
    expect(
      expectedWrites('alias', JSON.stringify(JSON.stringify({ a: { aliases: { r: {}, s: {} } } }))),
    ).toBe(2);
    expect(expectedWrites('data', '{"a":1}\n{"b":2}\n')).toBe(2);
    expect(expectedWrites('mapping', '{}')).toBeUndefined();
    expect(parseTotalWrites('x | Total Writes: 3\ny | dump complete\n')).toBe(3);
    expect(parseTotalWrites('nothing')).toBeUndefined();
    expect(countLines(Buffer.from('a\nb\nc'))).toBe(2);
    expect(
      mappingFields({ i: { mappings: { properties: { b: {}, a: {} } } }, j: { mappings: {} } }),
    ).toEqual(
      new Map([
        ['i', ['a', 'b']],
        ['j', []],
      ]),
    );
  });
});

describe('data chunks', () => {
  const lines = Array.from(
    { length: 500 },
    (_, i) => `{"_id":"${i}","_source":{"t":"${'é'.repeat(i % 37)}"}}\n`,
  );
  const input = Buffer.from(lines.join(''));

  it.each([1, 7, 64, 4096])(
    'given documents arriving in %i-byte pieces, when chunked at 1 KiB, then every chunk ends at a line end, stays ≤ 1 KiB, and together they are the input',
    (piece) => {
      const c = new LineChunker(1024);
      const out: Buffer[] = [];
      for (let i = 0; i < input.length; i += piece)
        out.push(...c.push(input.subarray(i, i + piece)));
      const last = c.end();
      if (last) out.push(last);
      expect(Buffer.concat(out).equals(input)).toBe(true);
      expect(out.length).toBeGreaterThan(10);
      for (const b of out) {
        expect(b[b.length - 1]).toBe(0x0a);
        expect(b.length).toBeLessThanOrEqual(1024);
      }
    },
  );

  it('given one document larger than the chunk size, when chunked, then it is one whole (larger) chunk', () => {
    const big = `{"x":"${'a'.repeat(5000)}"}\n`;
    const c = new LineChunker(1024);
    const out = [...c.push(Buffer.from('{"s":1}\n' + big + '{"s":2}\n'))];
    const last = c.end();
    if (last) out.push(last);
    expect(out.map((b) => b.toString())).toEqual(['{"s":1}\n', big, '{"s":2}\n']);
  });

  it('given a last line without a newline, when ended, then the newline is added', () => {
    const c = new LineChunker(1024);
    expect(c.push(Buffer.from('{"a":1}'))).toEqual([]);
    expect(c.end()?.toString()).toBe('{"a":1}\n');
    expect(c.end()).toBeUndefined();
  });
});
