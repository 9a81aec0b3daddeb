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

export function forwardTcp(
  listenHost: string,
  to: { host: string; port: number },
): Promise<Forwarder> {
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect(to.port, to.host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
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
