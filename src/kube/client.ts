import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from 'node:https';
import { createInterface } from 'node:readline';

/**
 * Where requests go and how they are authenticated: the two methods of
 * client-node's KubeConfig that requests need, so either that KubeConfig
 * (the CLI, tests) or snapkeeper's own loader (src/kube/access.ts, the
 * operator: it does not load the package's generated API classes) will do.
 */
export interface KubeAccess {
  getCurrentCluster(): { server: string; proxyUrl?: string | undefined } | null;
  /** Sets TLS options, an Authorization header (and maybe `agent`) on a request. */
  applyToHTTPSOptions(opts: RequestOptions): Promise<void>;
}

export type Query = Record<string, string | number | boolean | undefined>;

/**
 * API clients that keep their connections.
 *
 * client-node's generated clients give every request a new `https.Agent`, so
 * every request opens a new TCP connection, does a full TLS handshake and
 * builds a new TLS context from the CA. At a thousand workloads that was most
 * of the operator's start-up time and much of its peak memory (bench/RESULTS.md).
 * Here all requests of one KubeConfig share one keep-alive agent of at most
 * `maxSockets` connections, which is also the client-side bound on requests
 * in flight. Long-lived watches get their own connection (`watchLines`), so
 * they never hold a socket of the pool.
 *
 * Requests and answers are plain JSON: the generated clients' typed
 * (de)serialization walks every field of every object, and loading those
 * classes alone costs a process about 70 MiB (src/kube/generated.ts keeps
 * them for the CLI and tests).
 *
 * Authentication still goes through the KubeConfig on every request (a
 * rotated ServiceAccount token or an exec plugin's new token is picked up);
 * only the TLS material of the first request is kept for the pool.
 */
export class KubeClients {
  private agent: HttpAgent | undefined;

  constructor(
    readonly kc: KubeAccess,
    private readonly maxSockets = 16,
  ) {}

  /**
   * The shared agent, made from the TLS options of the first request (or of
   * the per-request agent client-node's KubeConfig sets). A proxy agent
   * (cluster.proxyUrl) is left as the KubeConfig made it.
   */
  protected pooled(opts: RequestOptions, protocol: string): HttpAgent | undefined {
    if (this.agent) return this.agent;
    if (this.kc.getCurrentCluster()?.proxyUrl) return undefined;
    const base = { keepAlive: true, maxSockets: this.maxSockets, scheduling: 'lifo' as const };
    if (protocol === 'https:') {
      const given = opts.agent;
      const o =
        given instanceof HttpsAgent
          ? (given as HttpsAgent & { options: RequestOptions }).options
          : opts;
      this.agent = new HttpsAgent({
        ...base,
        ...pick(o, ['ca', 'cert', 'key', 'pfx', 'passphrase', 'rejectUnauthorized', 'servername']),
      });
    } else {
      this.agent = new HttpAgent(base);
    }
    return this.agent;
  }

  /**
   * One GET (e.g. with an `Accept` header asking for metadata only); rejects
   * with `statusCode` set on a non-2xx answer. `stream: true` gives its own
   * connection (for watches).
   */
  get(
    path: string,
    query: Query,
    headers: Record<string, string>,
    options: { stream?: boolean; signal?: AbortSignal } = {},
  ): Promise<IncomingMessage> {
    return this.request('GET', path, query, headers, undefined, options);
  }

  private async request(
    method: string,
    path: string,
    query: Query,
    headers: Record<string, string>,
    body: { text: string; type: string } | undefined,
    options: { stream?: boolean; signal?: AbortSignal } = {},
  ): Promise<IncomingMessage> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error('no current cluster in the kubeconfig');
    const url = new URL(cluster.server + path);
    for (const [k, v] of Object.entries(query))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const opts: RequestOptions = { method, headers: {} };
    await this.kc.applyToHTTPSOptions(opts);
    if (!options.stream) opts.agent = this.pooled(opts, url.protocol) ?? opts.agent;
    opts.headers = { ...(opts.headers as Record<string, string>), ...headers };
    if (body !== undefined) {
      opts.headers['Content-Type'] = body.type;
      opts.headers['Content-Length'] = String(Buffer.byteLength(body.text));
    }
    if (options.signal) opts.signal = options.signal;
    const send = url.protocol === 'http:' ? httpRequest : httpsRequest;
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      const req = send(url, opts, resolve);
      req.on('error', reject);
      // A watch may stay silent for minutes: TCP keep-alive notices a dead peer.
      if (options.stream) req.on('socket', (s) => s.setKeepAlive(true, 30_000));
      req.end(body?.text);
    });
    const code = res.statusCode ?? 0;
    if (code >= 200 && code < 300) return res;
    const text_ = await text(res).catch(() => '');
    let message = `${method} ${url.pathname}: HTTP ${code}`;
    try {
      message = (JSON.parse(text_) as { message?: string }).message ?? message;
    } catch {
      // not a Status object
    }
    // `code` as the generated clients' ApiException has it; `body` for statusReason.
    throw Object.assign(new Error(message), { code, statusCode: code, body: text_ });
  }

  async getJson<T>(path: string, query: Query, headers: Record<string, string>): Promise<T> {
    return JSON.parse(await text(await this.get(path, query, headers))) as T;
  }

  /**
   * A JSON request and its JSON answer, as plain objects (timestamps stay
   * RFC 3339 strings). `contentType` for a PATCH (merge-patch+json, ...).
   */
  async json<T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    path: string,
    body?: unknown,
    options: { query?: Query; contentType?: string } = {},
  ): Promise<T> {
    const res = await this.request(
      method,
      path,
      options.query ?? {},
      { Accept: 'application/json' },
      body === undefined
        ? undefined
        : { text: JSON.stringify(body), type: options.contentType ?? 'application/json' },
    );
    return JSON.parse(await text(res)) as T;
  }

  /** Ends every pooled connection (at shutdown). */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}

function pick<T extends object, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined && o[k] !== null) out[k] = o[k];
  return out;
}

async function text(res: IncomingMessage): Promise<string> {
  res.setEncoding('utf8');
  let s = '';
  for await (const chunk of res) s += chunk as string;
  return s;
}

/**
 * A watch stream as one JSON value per line: `onLine` per line, `onDone`
 * once (null when the server closed the stream cleanly).
 */
export function readLines(
  res: IncomingMessage,
  onLine: (value: unknown) => void,
  onDone: (err: unknown) => void,
): void {
  let done = false;
  const finish = (err: unknown) => {
    if (done) return;
    done = true;
    onDone(err);
  };
  res.on('error', finish);
  res.on('aborted', () => finish(new Error('watch connection aborted')));
  const lines = createInterface({ input: res, crlfDelay: Infinity });
  // readline re-emits the stream's errors (a reset connection: "aborted"):
  // unhandled, they would crash the process.
  lines.on('error', finish);
  lines.on('line', (line) => {
    if (done || !line) return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      return;
    }
    onLine(value);
  });
  lines.on('close', () => finish(null));
}
