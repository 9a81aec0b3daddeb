/**
 * The few requests the engine makes itself, before elasticdump runs: the
 * server's version (`GET /`) and which cluster-level objects it has. Basic
 * auth in a header, never in the URL; messages name the URL without
 * credentials.
 */
import { OperationError } from '../../src/errors.js';
import type { DumpTarget } from '../types.js';

export interface EsServer {
  /** `version.number` of `GET /`. */
  number: string;
  distribution: 'elasticsearch' | 'opensearch';
}

/** `http(s)://host:port`, IPv6 in brackets, no credentials. */
export function baseUrl(target: DumpTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${target.tls ? 'https' : 'http'}://${host}:${target.port}`;
}

/** The user name sent with a password: the target's, else `elastic` (the built-in superuser). */
export function esUsername(target: DumpTarget): string | undefined {
  if (target.password === undefined) return target.username;
  return target.username ?? 'elastic';
}

export function authHeader(target: DumpTarget): Record<string, string> {
  const user = esUsername(target);
  if (user === undefined) return {};
  const token = Buffer.from(`${user}:${target.password ?? ''}`).toString('base64');
  return { authorization: `Basic ${token}` };
}

export interface EsResponse {
  status: number;
  body: unknown;
}

const TIMEOUT_MS = 30_000;

/** GET `path`; a network failure or a 401/403 is an OperationError, other statuses are returned. */
export async function esGet(
  target: DumpTarget,
  path: string,
  signal?: AbortSignal,
): Promise<EsResponse> {
  const url = `${baseUrl(target)}${path}`;
  const timeout = AbortSignal.timeout(TIMEOUT_MS);
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { accept: 'application/json', ...authHeader(target) },
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    throw new OperationError(`cannot reach Elasticsearch at ${url}: ${why}`, { cause: err });
  }
  const text = await res.text();
  if (res.status === 401 || res.status === 403) {
    throw new OperationError(
      `Elasticsearch at ${url} refused the credentials (HTTP ${res.status}${esUsername(target) ? `, user ${esUsername(target)}` : ', no user'})`,
    );
  }
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body };
}

/** The server's version and distribution, from `GET /`. */
export async function esServer(target: DumpTarget, signal?: AbortSignal): Promise<EsServer> {
  const r = await esGet(target, '/', signal);
  const version = (r.body as { version?: { number?: unknown; distribution?: unknown } })?.version;
  if (r.status !== 200 || typeof version?.number !== 'string') {
    throw new OperationError(
      `${baseUrl(target)}/ did not answer like Elasticsearch or OpenSearch (HTTP ${r.status})`,
    );
  }
  return {
    number: version.number,
    distribution: version.distribution === 'opensearch' ? 'opensearch' : 'elasticsearch',
  };
}

/** `2.19.1 (opensearch)`, `8.15.0`: the manifest's server version. */
export function describeServer(s: EsServer): string {
  return s.distribution === 'opensearch' ? `${s.number} (opensearch)` : s.number;
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
}

/** Where a cluster-level type is listed (without a name: 200 even when empty), or undefined if the server has none. */
export function clusterListPath(
  type: 'policy' | 'component_template' | 'index_template' | 'template',
  s: EsServer,
): string | undefined {
  const os = s.distribution === 'opensearch';
  switch (type) {
    case 'template':
      return '/_template';
    case 'component_template':
    case 'index_template':
      return os || atLeast(s.number, 7, 8) ? `/_${type}` : undefined;
    case 'policy':
      // ISM is a plugin on OpenSearch; ILM is in Elasticsearch from 6.6.
      if (os) return '/_plugins/_ism/policies';
      return atLeast(s.number, 6, 6) ? '/_ilm/policy' : undefined;
  }
}

/** Whether a listing holds anything: `{}`, `{"index_templates":[]}`, `{"policies":[],…}` do not. */
export function listingHasObjects(body: unknown): boolean {
  if (!body || typeof body !== 'object') return false;
  const values = Object.values(body as Record<string, unknown>);
  const lists = values.filter(Array.isArray);
  if (lists.length > 0) return lists.some((l) => l.length > 0);
  return values.length > 0;
}
