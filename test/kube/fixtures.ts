// What every kube suite needs around the control plane: waiting for a
// condition, a fresh namespace, the Events on a pod, and a network outage on
// request. The workloads they create are in workloads.ts; the operator and
// the status controller started in-process in operator-fixtures.ts and
// status-fixtures.ts.
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { KubeInfo } from '../env/helpers.js';
import { kubeConfig, uniqueName } from '../env/helpers.js';
import { trackPair } from '../env/servers/forward.js';
import { createNamespace } from './workloads.js';

/**
 * Polls `check` every `everyMs` until it returns something other than
 * `undefined` or `false`, and returns that; times out after `timeoutMs`. An
 * error thrown by `check` fails the wait at once.
 */
export async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A namespace of its own: `<prefix>-<random>`. */
export async function newNamespace(kube: KubeInfo, prefix: string): Promise<string> {
  const name = uniqueName(prefix)
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .slice(0, 50);
  await createNamespace(kubeConfig(kube), name);
  return name;
}

/** The Events about pod `namespace/pod` (with `reason`, when given). */
export async function podEvents(
  kc: KubeConfig,
  namespace: string,
  pod: string,
  reason?: string,
): Promise<CoreV1Event[]> {
  const list = await kc.makeApiClient(CoreV1Api).listNamespacedEvent({
    namespace,
    fieldSelector: `involvedObject.name=${pod}`,
  });
  return reason === undefined ? list.items : list.items.filter((e) => e.reason === reason);
}

/**
 * A TCP relay to the apiserver that the test can cut: every open connection
 * is destroyed and new ones are refused until `restore()` (a network outage,
 * which no apiserver produces on request).
 */
export async function cuttableRelay(target: URL): Promise<{
  server: string;
  /** Connections accepted so far. */
  connections(): number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}> {
  const sockets = new Set<Socket>();
  let down = false;
  let accepted = 0;
  const server: Server = createServer((client) => {
    if (down) return void client.destroy();
    accepted++;
    const upstream = connect(Number(target.port), target.hostname);
    trackPair(client, upstream, sockets);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    server: `https://127.0.0.1:${port}`,
    connections: () => accepted,
    cut() {
      down = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      down = false;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
