import { existsSync, readFileSync } from 'node:fs';
import type { RequestOptions } from 'node:https';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { UserError, describeError } from '../errors.js';
import type { KubeAccess } from './client.js';

/**
 * The operator's connection to the API server, read without client-node:
 * its KubeConfig class alone loads the package's generated API classes
 * (about 70 MiB of RSS), which the operator never uses. This reads what a
 * cluster's own credentials and the usual kubeconfig hold (server, CA,
 * client certificate, bearer token or token file, basic auth); a kubeconfig
 * asking for more (an exec plugin, an auth provider, a proxy) is handed to
 * client-node's KubeConfig, loaded only then.
 */
export interface KubeAccessSource {
  /** An explicit kubeconfig path (`--kubeconfig`); wins over everything else. */
  kubeconfig?: string | undefined;
  env: NodeJS.ProcessEnv;
  /** The ServiceAccount directory (tests); default the in-cluster mount. */
  serviceAccountDir?: string;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';
/** A token read from a file is read again after this long (a projected token rotates). */
const TOKEN_REREAD_MS = 60_000;

interface Cluster {
  server: string;
  ca?: Buffer | undefined;
  insecure?: boolean;
  servername?: string | undefined;
}

interface User {
  token?: string | undefined;
  tokenFile?: string | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  username?: string | undefined;
  password?: string | undefined;
}

/** Thrown inside: this kubeconfig needs client-node's KubeConfig. */
class NeedsClientNode extends Error {}

/**
 * Where the operator connects: an explicit kubeconfig, else `KUBECONFIG`, else
 * in cluster (service-account token) when running in a pod, else
 * `~/.kube/config`, as src/kube/config.ts decides for the CLI. A user's
 * mistake (no such file, no cluster) is a UserError.
 */
export async function loadKubeAccess(source: KubeAccessSource): Promise<KubeAccess> {
  const file = source.kubeconfig ?? source.env.KUBECONFIG;
  const saDir = source.serviceAccountDir ?? SA_DIR;
  const clientNode = async () => {
    const { loadKubeConfig } = await import('./config.js');
    return loadKubeConfig({ kubeconfig: source.kubeconfig, env: source.env });
  };
  try {
    if (file) {
      if (!existsSync(file)) throw new UserError(`kubeconfig ${file} does not exist`);
      return fromKubeconfig(file);
    }
    if (source.env.KUBERNETES_SERVICE_HOST && existsSync(join(saDir, 'token'))) {
      return inCluster(source.env, saDir);
    }
    const home = join(source.env.HOME ?? homedir(), '.kube', 'config');
    if (existsSync(home)) return fromKubeconfig(home);
    // Nothing configured: client-node's defaults, as the CLI has them.
    throw new NeedsClientNode();
  } catch (err) {
    if (err instanceof NeedsClientNode) return clientNode();
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot load the Kubernetes configuration: ${describeError(err)}`);
  }
}

function inCluster(env: NodeJS.ProcessEnv, saDir: string): KubeAccess {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  const ca = join(saDir, 'ca.crt');
  return access(
    { server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`, ca: readFileSync(ca) },
    { tokenFile: join(saDir, 'token') },
  );
}

type Entry = Record<string, unknown>;
const NO_CLUSTER = 'no Kubernetes cluster configured: pass --kubeconfig or set KUBECONFIG';

/** The `what` (cluster, user, context) of the entry named `name` in a kubeconfig list. */
function entry(list: unknown, name: unknown, what: string): Entry | undefined {
  if (!Array.isArray(list)) return undefined;
  const found = (list as Entry[]).find((e) => e.name === name)?.[what];
  return typeof found === 'object' && found !== null ? (found as Entry) : undefined;
}

function fromKubeconfig(file: string): KubeAccess {
  const doc = (loadYaml(readFileSync(file, 'utf8')) ?? {}) as Entry;
  const dir = dirname(file);
  const path = (p: unknown) => {
    const s = str(p);
    return s && !isAbsolute(s) ? join(dir, s) : s;
  };
  const bytes = (data: unknown, file: unknown): Buffer | undefined => {
    const d = str(data);
    if (d) return Buffer.from(d, 'base64');
    const p = path(file);
    return p ? readFileSync(p) : undefined;
  };
  const context = entry(doc.contexts, doc['current-context'], 'context');
  const cluster = entry(doc.clusters, context?.cluster, 'cluster');
  if (!context || !cluster) throw new UserError(NO_CLUSTER);
  const user = entry(doc.users, context.user, 'user') ?? {};
  if (cluster['proxy-url'] || user.exec || user['auth-provider']) throw new NeedsClientNode();
  const server = str(cluster.server);
  if (!server) throw new UserError(NO_CLUSTER);
  return access(
    {
      server: server.replace(/\/+$/, ''),
      ca: bytes(cluster['certificate-authority-data'], cluster['certificate-authority']),
      insecure: cluster['insecure-skip-tls-verify'] === true,
      servername: str(cluster['tls-server-name']),
    },
    {
      token: str(user.token),
      tokenFile: path(user.tokenFile),
      cert: bytes(user['client-certificate-data'], user['client-certificate']),
      key: bytes(user['client-key-data'], user['client-key']),
      username: str(user.username),
      password: str(user.password),
    },
  );
}

const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);

/** A KubeAccess on one cluster and user; a token file is re-read every minute. */
function access(cluster: Cluster, user: User): KubeAccess {
  let token = user.token;
  let readAt = 0;
  const bearer = (): string | undefined => {
    if (!user.tokenFile) return token;
    const now = Date.now();
    if (token === undefined || now - readAt >= TOKEN_REREAD_MS) {
      token = readFileSync(user.tokenFile, 'utf8').trim();
      readAt = now;
    }
    return token;
  };
  return {
    getCurrentCluster: () => ({ server: cluster.server }),
    applyToHTTPSOptions(opts: RequestOptions): Promise<void> {
      if (cluster.ca) opts.ca = cluster.ca;
      if (cluster.insecure) opts.rejectUnauthorized = false;
      if (cluster.servername) opts.servername = cluster.servername;
      if (user.cert) opts.cert = user.cert;
      if (user.key) opts.key = user.key;
      const headers = (opts.headers ??= {}) as Record<string, string>;
      const t = bearer();
      if (t) headers.Authorization = `Bearer ${t}`;
      else if (user.username) opts.auth = `${user.username}:${user.password ?? ''}`;
      return Promise.resolve();
    },
  };
}
