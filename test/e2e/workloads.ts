// The e2e suite's database workloads, as users deploy them: a PostgreSQL
// StatefulSet (credentials through env valueFrom), a MariaDB Deployment
// (credentials through envFrom) and an Elasticsearch API Deployment (a proxy
// to the test environment's OpenSearch), each with its Service and Secret,
// annotated for snapkeeper. Images: PostgreSQL and MariaDB from Debian's
// packages (test/env/images/*-server.Dockerfile).
import { inject } from 'vitest';

export const PG_PASSWORD = `pg pa55 'w"rd$x%`;
export const MY_PASSWORD = `my pa55 'w"rd$x%\\`;

export function postgresObjects(ns: string, annotations: Record<string, string>): object[] {
  const { images } = inject('node');
  const labels = { app: 'postgres' };
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'postgres-credentials', namespace: ns },
      stringData: { user: 'postgres', password: PG_PASSWORD, database: 'app' },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'postgres', namespace: ns },
      spec: {
        selector: labels,
        ports: [{ name: 'postgresql', port: 5432, targetPort: 5432 }],
      },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'postgres', namespace: ns },
      spec: {
        serviceName: 'postgres',
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels, annotations },
          spec: {
            terminationGracePeriodSeconds: 5,
            containers: [
              {
                name: 'postgres',
                image: images.postgresServer,
                imagePullPolicy: 'IfNotPresent',
                ports: [{ containerPort: 5432, name: 'postgresql' }],
                env: [
                  secretEnv('POSTGRES_USER', 'postgres-credentials', 'user'),
                  secretEnv('POSTGRES_PASSWORD', 'postgres-credentials', 'password'),
                  secretEnv('POSTGRES_DB', 'postgres-credentials', 'database'),
                ],
                readinessProbe: { tcpSocket: { port: 5432 }, periodSeconds: 2 },
                volumeMounts: [{ name: 'data', mountPath: '/var/lib/postgresql/data' }],
              },
            ],
            volumes: [{ name: 'data', emptyDir: {} }],
          },
        },
      },
    },
  ];
}

export function mariadbObjects(ns: string, annotations: Record<string, string>): object[] {
  const { images } = inject('node');
  const labels = { app: 'mariadb' };
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'mariadb-env', namespace: ns },
      stringData: { MARIADB_ROOT_PASSWORD: MY_PASSWORD, MARIADB_DATABASE: 'shop' },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'mariadb', namespace: ns },
      spec: { selector: labels, ports: [{ name: 'mysql', port: 3306, targetPort: 3306 }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'mariadb', namespace: ns },
      spec: {
        replicas: 1,
        strategy: { type: 'Recreate' },
        selector: { matchLabels: labels },
        template: {
          metadata: { labels, annotations },
          spec: {
            terminationGracePeriodSeconds: 5,
            containers: [
              {
                name: 'mariadb',
                image: images.mariadbServer,
                imagePullPolicy: 'IfNotPresent',
                ports: [{ containerPort: 3306, name: 'mysql' }],
                envFrom: [{ secretRef: { name: 'mariadb-env' } }],
                readinessProbe: { tcpSocket: { port: 3306 }, periodSeconds: 2 },
                volumeMounts: [{ name: 'data', mountPath: '/var/lib/mysql/data' }],
              },
            ],
            volumes: [{ name: 'data', emptyDir: {} }],
          },
        },
      },
    },
  ];
}

export const ES_PASSWORD = `es pa55 'w"rd$x%:@/#`;

/**
 * The proxy the search Deployment runs: port 9200, 401 unless the request
 * carries user elastic and ELASTIC_PASSWORD (as a secured Elasticsearch
 * does), then relayed to UPSTREAM without the credentials.
 */
const SEARCH_PROXY = `
const http = require('node:http');
const up = new URL(process.env.UPSTREAM);
const want = 'Basic ' + Buffer.from('elastic:' + process.env.ELASTIC_PASSWORD).toString('base64');
http.createServer((req, res) => {
  if (req.headers.authorization !== want) {
    res.writeHead(401, { 'content-type': 'application/json' });
    return res.end('{"error":"unauthorized"}');
  }
  const headers = { ...req.headers, host: up.host };
  delete headers.authorization;
  const fwd = http.request(
    { host: up.hostname, port: up.port, method: req.method, path: req.url, headers },
    (r) => { res.writeHead(r.statusCode, r.headers); r.pipe(res); },
  );
  fwd.on('error', (e) => { res.writeHead(502); res.end(String(e)); });
  req.pipe(fwd);
}).listen(9200);
`;

/**
 * An Elasticsearch API workload: the test environment's OpenSearch (one JVM
 * on the host, reached on the node's IP) behind a small authenticating proxy
 * Deployment, credentials (ELASTIC_PASSWORD) from a Secret. The proxy runs in
 * the operator's image (it has Node.js), as uid 65532 on a read-only root.
 */
export function searchObjects(ns: string, annotations: Record<string, string>): object[] {
  const { images } = inject('node');
  const { nodeUrl } = inject('opensearch');
  if (!nodeUrl) throw new Error('the e2e setup provides no OpenSearch address for pods');
  const labels = { app: 'search' };
  return [
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'search-credentials', namespace: ns },
      stringData: { password: ES_PASSWORD },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'search', namespace: ns },
      spec: { selector: labels, ports: [{ name: 'http', port: 9200, targetPort: 9200 }] },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'search', namespace: ns },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels, annotations },
          spec: {
            terminationGracePeriodSeconds: 2,
            containers: [
              {
                name: 'search',
                image: `${images.repository}/operator:${images.tag}`,
                imagePullPolicy: 'IfNotPresent',
                command: ['node', '-e', SEARCH_PROXY],
                ports: [{ containerPort: 9200, name: 'http' }],
                env: [
                  { name: 'UPSTREAM', value: nodeUrl },
                  secretEnv('ELASTIC_PASSWORD', 'search-credentials', 'password'),
                ],
                securityContext: {
                  runAsNonRoot: true,
                  readOnlyRootFilesystem: true,
                  allowPrivilegeEscalation: false,
                },
                readinessProbe: { tcpSocket: { port: 9200 }, periodSeconds: 2 },
              },
            ],
          },
        },
      },
    },
  ];
}

function secretEnv(name: string, secret: string, key: string) {
  return { name, valueFrom: { secretKeyRef: { name: secret, key } } };
}

export const TARGET_PASSWORD = `target pa55 'w"rd$`;

/**
 * Fresh servers to restore into: bare pods of the same server images in a
 * namespace snapkeeper does not watch, so a restored dump compares with the
 * source's byte for byte (two builds of one major version may not).
 */
export function restoreTargets(ns: string): object[] {
  const { images } = inject('node');
  const pod = (
    name: string,
    image: string,
    port: number,
    env: Record<string, string>,
    mount: string,
  ) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      terminationGracePeriodSeconds: 5,
      containers: [
        {
          name: 'server',
          image,
          imagePullPolicy: 'IfNotPresent',
          env: Object.entries(env).map(([n, value]) => ({ name: n, value })),
          readinessProbe: { tcpSocket: { port }, periodSeconds: 2 },
          volumeMounts: [{ name: 'data', mountPath: mount }],
        },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
    },
  });
  return [
    pod(
      'pg-target',
      images.postgresServer,
      5432,
      { POSTGRES_PASSWORD: TARGET_PASSWORD },
      '/var/lib/postgresql/data',
    ),
    pod(
      'my-target',
      images.mariadbServer,
      3306,
      { MARIADB_ROOT_PASSWORD: TARGET_PASSWORD },
      '/var/lib/mysql/data',
    ),
  ];
}
