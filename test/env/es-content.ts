// The hard case of the Elasticsearch round trips: three indices under one
// prefix (settings, a custom analyzer, strict and nested mappings, filtered and
// write aliases, 3,000 + 1,500 documents with non-ASCII and nested JSON, one
// empty index), loaded into OpenSearch by the opensearch and e2e suites alike,
// and what a restore must bring back of each index.

export const N_PRODUCTS = 3000;
export const N_EVENTS = 1500;

/** The fixture's index names under a prefix. */
export function esIndices(p: string) {
  return { products: `${p}-products`, events: `${p}-events`, empty: `${p}-empty` };
}

/** A JSON call to the Elasticsearch API at url; throws on a non-2xx answer. */
export function esClient(url: string) {
  return async function es(method: string, path: string, body?: unknown): Promise<unknown> {
    const r = await fetch(`${url}${path}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };
}

async function bulk(url: string, index: string, docs: { id: string; doc: unknown }[]) {
  for (let i = 0; i < docs.length; i += 1000) {
    const lines = docs
      .slice(i, i + 1000)
      .flatMap((d) => [
        JSON.stringify({ index: { _index: index, _id: d.id } }),
        JSON.stringify(d.doc),
      ]);
    const r = await fetch(`${url}/_bulk?refresh=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson' },
      body: lines.join('\n') + '\n',
    });
    const res = (await r.json()) as { errors: boolean; items: { index: { error?: unknown } }[] };
    const failed = res.items.find((x) => x.index.error)?.index.error;
    if (res.errors || failed !== undefined)
      throw new Error(`bulk into ${index}: ${JSON.stringify(failed)}`);
  }
}

/** Creates and fills the fixture's three indices under prefix p. */
export async function loadEsContent(url: string, p: string): Promise<void> {
  const es = esClient(url);
  const { products, events, empty } = esIndices(p);
  await es('PUT', `/${products}`, {
    settings: {
      number_of_shards: 2,
      number_of_replicas: 0,
      refresh_interval: '7s',
      max_result_window: 20000,
      analysis: {
        char_filter: { amp: { type: 'mapping', mappings: ['& => and'] } },
        filter: { my_stop: { type: 'stop', stopwords: ['le', 'la', 'the'] } },
        analyzer: {
          folding: {
            type: 'custom',
            char_filter: ['amp'],
            tokenizer: 'standard',
            filter: ['lowercase', 'asciifolding', 'my_stop'],
          },
        },
      },
    },
    mappings: {
      dynamic: 'strict',
      properties: {
        name: { type: 'text', analyzer: 'folding', fields: { raw: { type: 'keyword' } } },
        tags: { type: 'keyword' },
        price: { type: 'scaled_float', scaling_factor: 100 },
        created: { type: 'date', format: 'yyyy-MM-dd HH:mm:ss||epoch_millis' },
        variants: {
          type: 'nested',
          properties: { sku: { type: 'keyword' }, qty: { type: 'integer' } },
        },
        meta: { type: 'object', dynamic: true },
      },
    },
    aliases: {
      [`${p}-sale`]: { filter: { term: { tags: 'sale' } } },
      [`${p}-write`]: { is_write_index: true, routing: '1' },
    },
  });
  await es('PUT', `/${events}`, { settings: { number_of_replicas: 0 } });
  await es('PUT', `/${empty}`, {
    settings: { number_of_shards: 1, number_of_replicas: 0 },
    mappings: { properties: { x: { type: 'keyword' } } },
  });

  await bulk(
    url,
    products,
    Array.from({ length: N_PRODUCTS }, (_, i) => ({
      id: `p${i}`,
      doc: {
        name: `Crème brûlée nº${i} — 日本語 🎉 "quoted" \\ back\nnewline\ttab`,
        tags: i % 3 === 0 ? ['sale', 'ünï'] : ['regular'],
        price: (i * 7) / 100,
        created: `2026-01-${String((i % 28) + 1).padStart(2, '0')} 10:00:00`,
        variants: [
          { sku: `SKU-${i}-a`, qty: i },
          { sku: `SKU-${i}-ß`, qty: -i },
        ],
        meta: {
          deep: { deeper: { list: ['1', 'two', null, 'drei'], flag: { three: true } } },
          empty: {},
        },
      },
    })),
  );
  await bulk(
    url,
    events,
    Array.from({ length: N_EVENTS }, (_, i) => ({
      id: `e-${i}-ü`,
      doc: {
        kind: i % 2 ? 'click' : 'view',
        at: 1_700_000_000_000 + i,
        payload: { n: i, s: 'ø'.repeat(i % 50) },
      },
    })),
  );
}

/** Every document of an index, sorted by id. */
export async function allDocs(url: string, index: string): Promise<[string, unknown][]> {
  const r = (await esClient(url)('POST', `/${index}/_search`, {
    size: 10000,
    sort: [{ _id: 'asc' }],
    query: { match_all: {} },
  })) as { hits: { hits: { _id: string; _source: unknown }[] } };
  return r.hits.hits.map((h) => [h._id, h._source]);
}

/**
 * What a restore must bring back of one fixture index: mapping, the settings
 * that matter, aliases, the products analyzer's output and every document.
 */
export async function esSnapshot(url: string, p: string, index: string) {
  const es = esClient(url);
  const settings = (await es('GET', `/${index}/_settings`)) as Record<
    string,
    { settings: { index: Record<string, unknown> } }
  >;
  const s = settings[index]!.settings.index;
  const analyze = async (text: string) =>
    index === esIndices(p).products
      ? (
          (await es('POST', `/${index}/_analyze`, { analyzer: 'folding', text })) as {
            tokens: { token: string }[];
          }
        ).tokens.map((t) => t.token)
      : [];
  return {
    mapping: ((await es('GET', `/${index}/_mapping`)) as Record<string, unknown>)[index],
    settings: {
      shards: s.number_of_shards,
      replicas: s.number_of_replicas,
      analysis: s.analysis,
      refresh: s.refresh_interval,
      maxResultWindow: s.max_result_window,
    },
    aliases: ((await es('GET', `/${index}/_alias`)) as Record<string, unknown>)[index],
    analyzed: await analyze('Crème BRÛLÉE & Ünïcødé café'),
    docs: await allDocs(url, index),
  };
}
