// The HTTP edge of the operator's plain-JSON requests (src/kube/client.ts,
// src/kube/api.ts): what goes on the wire and how answers and refusals are
// read, against a local HTTP server that answers as the apiserver does. The
// same paths against the real apiserver: test/kube/operator-*.test.ts.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKubeApi } from '../../src/kube/api.js';
import { isConflict, statusReason } from '../../src/kube/errors.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const status = (code: number, reason: string, message: string) =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

describe('plain-JSON requests', () => {
  let server: Server;
  const seen: Seen[] = [];
  const sockets = new Set<string>();
  let kc: KubeConfig;

  beforeAll(async () => {
    server = createServer((req, res) => {
      sockets.add(`${req.socket.remotePort}`);
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (c: string) => (body += c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        res.setHeader('Content-Type', 'application/json');
        if (req.url!.endsWith('/secrets/missing')) {
          res.statusCode = 404;
          return res.end(status(404, 'NotFound', 'secrets "missing" not found'));
        }
        if (req.method === 'POST' && req.url!.endsWith('/cronjobs')) {
          res.statusCode = 409;
          return res.end(status(409, 'AlreadyExists', 'cronjobs.batch "x" already exists'));
        }
        if (req.method === 'POST') {
          res.statusCode = 201;
          return res.end(body);
        }
        res.end(
          JSON.stringify({
            apiVersion: 'v1',
            kind: 'Secret',
            metadata: { name: 'db', namespace: 'shop', resourceVersion: '7' },
            data: { password: Buffer.from('pw').toString('base64') },
          }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'test-token' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
  });

  afterAll(async () => {
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('given a Secret read, then it is a GET with the token, answered as a plain object; a 404 is "absent"', async () => {
    const api = createKubeApi(kc);
    const s = await api.read.getSecret('shop', 'db');
    expect(Buffer.from(s!.data!.password!, 'base64').toString()).toBe('pw');
    expect(await api.read.getSecret('shop', 'missing')).toBeUndefined();
    const [get] = seen.filter((r) => r.url === '/api/v1/namespaces/shop/secrets/db');
    expect(get?.method).toBe('GET');
    expect(get?.headers.authorization).toBe('Bearer test-token');
    api.close();
  });

  it('given a create, then the body is the object with its apiVersion and kind; a 409 reads as a conflict with its reason', async () => {
    const api = createKubeApi(kc);
    const created = await api.secrets.create({
      metadata: { name: 'm', namespace: 'ctl' },
      data: { password: 'cHc=' },
    });
    expect(created.metadata?.name).toBe('m');
    const post = seen.find(
      (r) => r.method === 'POST' && r.url === '/api/v1/namespaces/ctl/secrets',
    );
    expect(JSON.parse(post!.body)).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'm', namespace: 'ctl' },
      data: { password: 'cHc=' },
    });
    expect(post!.headers['content-type']).toBe('application/json');

    const err = await api.cronJobs
      .create({ metadata: { name: 'x', namespace: 'ctl' }, spec: { schedule: '@daily' } } as never)
      .catch((e: unknown) => e);
    expect(isConflict(err)).toBe(true);
    expect(statusReason(err)).toBe('AlreadyExists');
    expect((err as Error).message).toBe('cronjobs.batch "x" already exists');
    api.close();
  });

  it('given many requests one after the other, then they share one connection', async () => {
    const api = createKubeApi(kc);
    sockets.clear();
    for (let i = 0; i < 10; i++) await api.read.getSecret('shop', 'db');
    expect(sockets.size).toBe(1);
    api.close();
  });

  it('given a guarded delete, then it is a DELETE with DeleteOptions: the propagation and the resourceVersion precondition', async () => {
    const api = createKubeApi(kc);
    await api.cronJobs.delete('ctl', 'cj', '42', 'Orphan');
    await api.secrets.delete('ctl', 's');
    const cj = seen.find((r) => r.method === 'DELETE' && r.url.endsWith('/cronjobs/cj'));
    expect(cj?.url).toBe('/apis/batch/v1/namespaces/ctl/cronjobs/cj');
    expect(JSON.parse(cj!.body)).toEqual({
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      propagationPolicy: 'Orphan',
      preconditions: { resourceVersion: '42' },
    });
    const s = seen.find((r) => r.method === 'DELETE' && r.url.endsWith('/secrets/s'));
    expect(JSON.parse(s!.body)).toEqual({ apiVersion: 'v1', kind: 'DeleteOptions' });
    api.close();
  });

  it('given an Event list and a workload read, then the field selector is a query parameter, each kind has its path, a ReplicaSet is read as metadata', async () => {
    const api = createKubeApi(kc);
    await api.events.list('shop', 'reportingComponent=snapkeeper');
    const list = seen.find((r) => r.url.startsWith('/api/v1/namespaces/shop/events?'));
    expect(new URL(list!.url, 'http://x').searchParams.get('fieldSelector')).toBe(
      'reportingComponent=snapkeeper',
    );
    await api.read.getWorkload('shop', 'StatefulSet', 'db');
    await api.read.getWorkload('shop', 'CronJob', 'db');
    expect(seen.map((r) => r.url)).toContain('/apis/apps/v1/namespaces/shop/statefulsets/db');
    expect(seen.map((r) => r.url)).toContain('/apis/batch/v1/namespaces/shop/cronjobs/db');
    await api.read.getReplicaSet('shop', 'db-5d8f');
    const rs = seen.find((r) => r.url === '/apis/apps/v1/namespaces/shop/replicasets/db-5d8f');
    expect(rs?.headers.accept).toBe(
      'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1', // owner references only
    );
    await expect(api.read.getWorkload('shop', 'Nope', 'db')).rejects.toThrow(
      /unknown workload kind/,
    );
    api.close();
  });
});
