// A TCP forwarder: listens on an address pods can reach (the e2e node's IP)
// and relays each connection to a server that listens on the host's
// 127.0.0.1 only (pods cannot reach the host's loopback).
import { createServer, connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export interface Forwarder {
  host: string;
  port: number;
  stop(): Promise<void>;
}

/**
 * One relayed connection's two sockets, kept in `open` while they are (so a
 * relay can destroy them all); an error on either side ends both.
 */
export function trackPair(client: Socket, upstream: Socket, open: Set<Socket>): void {
  for (const s of [client, upstream]) {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => {
      client.destroy();
      upstream.destroy();
    });
  }
}

export function forwardTcp(
  listenHost: string,
  to: { host: string; port: number },
): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(to.port, to.host);
    trackPair(client, upstream, sockets);
    client.pipe(upstream).pipe(client);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, listenHost, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        host: listenHost,
        port,
        stop: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
