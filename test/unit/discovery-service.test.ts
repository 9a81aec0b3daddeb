import type { V1Pod, V1Service, V1ServicePort } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { selectService } from '../../src/discovery/service.js';

const pod = (labels: Record<string, string>): V1Pod => ({
  metadata: { namespace: 'shop', name: 'p', labels },
});
const svc = (
  name: string,
  selector: Record<string, string> | undefined,
  ports: V1ServicePort[] = [{ port: 5432 }],
  headless = false,
): V1Service => ({
  metadata: { namespace: 'shop', name },
  spec: { selector, ports, ...(headless ? { clusterIP: 'None' } : {}) },
});
const pods = [
  pod({ app: 'pg', 'pod-template-hash': 'a' }),
  pod({ app: 'pg', 'pod-template-hash': 'b' }),
];

describe('selectService', () => {
  it('given one matching Service, when selected, then its in-cluster name and port are the target', () => {
    expect(
      selectService(pods, [svc('pg', { app: 'pg' }), svc('web', { app: 'web' })], 'postgresql'),
    ).toEqual({
      ok: true,
      service: 'pg',
      host: 'pg.shop.svc',
      port: 5432,
    });
  });

  it.each([
    ['no Service', []],
    ['a Service without selector', [svc('manual', undefined)]],
    ['an empty selector', [svc('all', {})]],
    ['a selector matching only some pods', [svc('one', { 'pod-template-hash': 'a' })]],
    ['a selector for other pods', [svc('web', { app: 'web' })]],
  ])('given %s, when selected, then NoService', (_n, services) => {
    const r = selectService(pods, services, 'postgresql');
    expect(r).toMatchObject({ ok: false, reason: 'NoService' });
  });

  it('given two regular Services, when selected, then AmbiguousService naming both', () => {
    const r = selectService(
      pods,
      [svc('pg', { app: 'pg' }), svc('pg-ro', { app: 'pg' })],
      'postgresql',
    );
    expect(r).toMatchObject({ ok: false, reason: 'AmbiguousService' });
    if (!r.ok) expect(r.message).toContain('pg, pg-ro');
  });

  it('given a regular and a headless Service, when selected, then the regular one is used', () => {
    const r = selectService(
      pods,
      [svc('pg-hl', { app: 'pg' }, undefined, true), svc('pg', { app: 'pg' })],
      'postgresql',
    );
    expect(r).toMatchObject({ ok: true, service: 'pg' });
  });

  it('given only a headless Service, when selected, then it is used', () => {
    expect(
      selectService(pods, [svc('pg-hl', { app: 'pg' }, undefined, true)], 'postgresql'),
    ).toMatchObject({
      ok: true,
      host: 'pg-hl.shop.svc',
    });
  });

  it.each([
    [
      'a port named postgresql',
      'postgresql',
      [
        { name: 'metrics', port: 9187 },
        { name: 'postgresql', port: 6432 },
      ],
      6432,
    ],
    [
      'a Bitnami port name',
      'postgresql',
      [
        { name: 'metrics', port: 9187 },
        { name: 'tcp-postgresql', port: 5433 },
      ],
      5433,
    ],
    [
      'the default port number',
      'mysql',
      [
        { name: 'metrics', port: 9104 },
        { name: 'x', port: 3306 },
      ],
      3306,
    ],
    [
      'the default as targetPort',
      'mariadb',
      [
        { name: 'a', port: 9104 },
        { name: 'b', port: 80, targetPort: 3306 },
      ],
      80,
    ],
    ['the single port', 'postgresql', [{ port: 15432 }], 15432],
    [
      'an http port for elasticsearch',
      'elasticsearch',
      [
        { name: 'transport', port: 9300 },
        { name: 'http', port: 9200 },
      ],
      9200,
    ],
  ] as const)('given %s, when selected, then the port is chosen', (_n, type, ports, expected) => {
    const r = selectService(pods, [svc('db', { app: 'pg' }, [...ports])], type);
    expect(r).toMatchObject({ ok: true, port: expected });
  });

  it('given several ports none of which fits, when selected, then AmbiguousService lists them', () => {
    const r = selectService(
      pods,
      [
        svc('db', { app: 'pg' }, [
          { name: 'a', port: 1 },
          { name: 'b', port: 2 },
        ]),
      ],
      'postgresql',
    );
    expect(r).toMatchObject({ ok: false, reason: 'AmbiguousService' });
    if (!r.ok) expect(r.message).toContain('a:1, b:2');
  });
});
