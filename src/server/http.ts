import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServerOptions {
  registry: Registry;
  host: string;
  port: number;
  /** /readyz answers 200 once this is true (caches synced). */
  ready: () => boolean;
}

/**
 * `/metrics` (Prometheus text), `/healthz` (the process serves requests),
 * `/readyz` (informer caches synced). Readiness does not depend on holding
 * the Lease: a standby replica is ready too, it just does not write.
 */
export class HealthServer {
  private server: Server | undefined;

  constructor(private readonly o: HealthServerOptions) {}

  async start(): Promise<AddressInfo> {
    const server = createServer((req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if (path === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      } else if (path === '/readyz') {
        const ready = this.o.ready();
        res
          .writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' })
          .end(ready ? 'ok\n' : 'caches not synced\n');
      } else if (path === '/metrics') {
        this.o.registry.metrics().then(
          (text) => res.writeHead(200, { 'content-type': this.o.registry.contentType }).end(text),
          () => res.writeHead(500).end(),
        );
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      }
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    return server.address() as AddressInfo;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections?.();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
