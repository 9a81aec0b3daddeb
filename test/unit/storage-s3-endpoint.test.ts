// An S3 endpoint that cannot be used says which endpoint and why, in words:
// real sockets on this machine (an http server asked in TLS, a closed port,
// a host name that does not resolve), no S3 server needed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStorage } from '../../src/storage/open.js';

let http: Server;
let port: number;
let closedPort: number;

beforeAll(async () => {
  http = createServer((_req, res) => res.end('<Error/>'));
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  port = (http.address() as AddressInfo).port;
  const other = createServer();
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
  closedPort = (other.address() as AddressInfo).port;
  await new Promise((r) => other.close(r));
});
afterAll(() => new Promise((r) => http.close(r)));

const env = { AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b', AWS_MAX_ATTEMPTS: '1' };

async function failure(endpoint: string): Promise<string> {
  const storage = openStorage('s3://bucket/p', { endpoint, env });
  try {
    for await (const _ of storage.list('')) break;
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error('listing succeeded');
}

describe('an S3 endpoint that cannot be used', () => {
  it('given https:// against an http server, then it says the server does not speak TLS', async () => {
    const msg = await failure(`https://127.0.0.1:${port}`);
    expect(msg).toBe(
      `list s3://bucket/p/: the server at https://127.0.0.1:${port} does not speak TLS (is it http://?)`,
    );
    expect(msg).not.toMatch(/SSL|EPROTO|openssl/i);
  });

  it('given a port nobody listens on, then "nothing listens at"', async () => {
    expect(await failure(`http://127.0.0.1:${closedPort}`)).toBe(
      `list s3://bucket/p/: cannot reach S3 endpoint http://127.0.0.1:${closedPort} (ECONNREFUSED): ` +
        `nothing listens at 127.0.0.1:${closedPort}`,
    );
  });

  it('given a host name that does not resolve, then "cannot resolve host"', async () => {
    expect(await failure('http://no-such-host.invalid:9000')).toMatch(
      /^list s3:\/\/bucket\/p\/: cannot reach S3 endpoint http:\/\/no-such-host\.invalid:9000 \((ENOTFOUND|EAI_AGAIN)\): cannot resolve host no-such-host\.invalid$/,
    );
  });
});
