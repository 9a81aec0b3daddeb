import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { run } from '../../src/cli.js';
import { createLogger } from '../../src/log.js';
import { HealthServer } from '../../src/server/http.js';
import { createMetrics } from '../../src/metrics/registry.js';

function ctx(env: NodeJS.ProcessEnv) {
  const stderr = new PassThrough();
  let err = '';
  stderr.on('data', (c) => (err += String(c)));
  return {
    c: {
      stdout: new PassThrough(),
      stderr,
      env,
      log: createLogger({ write: () => {} }),
      signal: new AbortController().signal,
    },
    err: () => err,
  };
}

describe('snapkeeper operator', () => {
  it('given a bad configuration, then it exits 2 with one line per problem and no stack', async () => {
    const { c, err } = ctx({ SNAPKEEPER_RESYNC_SECONDS: 'soon' });
    expect(await run(['operator'], c)).toBe(2);
    const lines = err().trim().split('\n');
    expect(lines.some((l) => l.startsWith('snapkeeper: SNAPKEEPER_WATCH_NAMESPACES:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('snapkeeper: SNAPKEEPER_STORAGE:'))).toBe(true);
    expect(lines.some((l) => l.startsWith('snapkeeper: SNAPKEEPER_RESYNC_SECONDS:'))).toBe(true);
    expect(err()).not.toMatch(/\n\s+at /);
  });

  it('given a kubeconfig that does not exist, then it exits 2', async () => {
    const { c, err } = ctx({
      SNAPKEEPER_WATCH_NAMESPACES: 'shop',
      SNAPKEEPER_STORAGE: 's3://backups/x',
    });
    expect(await run(['operator', '--kubeconfig', 'no-such-kubeconfig'], c)).toBe(2);
    expect(err()).toContain('no-such-kubeconfig');
  });
});

describe('HealthServer', () => {
  it('serves /healthz, /readyz after ready, and /metrics', async () => {
    let ready = false;
    const metrics = createMetrics();
    metrics.kubeApiRequests.inc({ verb: 'list' });
    const s = new HealthServer({
      registry: metrics.registry,
      host: '127.0.0.1',
      port: 0,
      ready: () => ready,
    });
    const { port } = await s.start();
    const get = (p: string) => fetch(`http://127.0.0.1:${port}${p}`);
    try {
      expect((await get('/healthz')).status).toBe(200);
      expect((await get('/readyz')).status).toBe(503);
      ready = true;
      expect((await get('/readyz')).status).toBe(200);
      const text = await (await get('/metrics')).text();
      expect(text).toContain('snapkeeper_kube_api_requests_total{verb="list"} 1');
    } finally {
      await s.stop();
    }
  });
});
