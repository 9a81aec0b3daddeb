// A control plane without nodes, started the way controller-runtime's envtest
// starts one: etcd, then kube-apiserver (RBAC, static admin token, service
// account signing key, ServiceAccount admission off), then
// kube-controller-manager with a chosen set of controllers (garbage
// collection, Jobs and CronJobs, namespaces, service accounts). There is no
// kubelet or scheduler, so Pods stay Pending; the Deployment and ReplicaSet
// controllers are off by default so tests build Deployment → ReplicaSet → Pod
// chains themselves, exactly as they want them.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { run } from '../exec.js';
import { binaries } from '../paths.js';
import {
  freePorts,
  makeTempDir,
  removeDir,
  spawnServer,
  waitUntil,
  withCleanup,
  type ServerProcess,
} from './process.js';

export interface KubeInfo {
  /** https://127.0.0.1:<port> */
  server: string;
  /** bearer token of user "admin" in group system:masters */
  token: string;
  /** PEM file of the CA that signed the apiserver's serving certificate */
  caFile: string;
  /** the same CA, base64 (a kubeconfig's certificate-authority-data) */
  caData: string;
  /** an admin kubeconfig file (KUBECONFIG for kubectl and helm) */
  kubeconfig: string;
  /** kubectl and helm */
  binDir: string;
  /** http://127.0.0.1:<port> */
  etcd: string;
  /** the apiserver's /version gitVersion */
  version: string;
}

/** kube-controller-manager's controllers when none are asked for. */
export const defaultControllers = [
  'garbage-collector-controller',
  'job-controller',
  'cronjob-controller',
  'ttl-after-finished-controller',
  'namespace-controller',
  'serviceaccount-controller',
  'serviceaccount-token-controller',
  'root-ca-certificate-publisher-controller',
  'clusterrole-aggregation-controller',
];

export interface StartKubeOptions {
  /** --controllers of kube-controller-manager; [] runs no controller-manager. */
  controllers?: string[];
}

/** GET over HTTPS: status and body. `ca` undefined skips verification. */
export function httpsGet(
  url: string,
  opts: { ca?: string | Buffer; token?: string; timeoutMs?: number } = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolveGet, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        ca: opts.ca,
        rejectUnauthorized: opts.ca !== undefined,
        headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
        timeout: opts.timeoutMs ?? 5000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolveGet({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/** A CA, a serving certificate for 127.0.0.1 signed by it, and the service account key. */
async function makeCertificates(dir: string): Promise<void> {
  const openssl = binaries.openssl();
  const f = (n: string) => join(dir, n);
  await run(openssl, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-days',
    '7',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
    '-subj',
    '/CN=snapkeeper-test-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run(openssl, [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-sha256',
    '-keyout',
    f('apiserver.key'),
    '-out',
    f('apiserver.csr'),
    '-subj',
    '/CN=kube-apiserver',
  ]);
  await writeFile(
    f('apiserver.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc',
    ].join('\n') + '\n',
  );
  await run(openssl, [
    'x509',
    '-req',
    '-sha256',
    '-days',
    '7',
    '-in',
    f('apiserver.csr'),
    '-CA',
    f('ca.crt'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-extfile',
    f('apiserver.ext'),
    '-out',
    f('apiserver.crt'),
  ]);
  await run(openssl, ['genrsa', '-out', f('sa.key'), '2048']);
}

function kubeconfigYaml(server: string, caData: string, user: string, token: string): string {
  // JSON is YAML; no YAML library needed.
  return JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: 'snapkeeper-test', cluster: { server, 'certificate-authority-data': caData } },
      ],
      users: [{ name: user, user: { token } }],
      contexts: [
        {
          name: 'snapkeeper-test',
          context: { cluster: 'snapkeeper-test', user, namespace: 'default' },
        },
      ],
      'current-context': 'snapkeeper-test',
    },
    null,
    2,
  );
}

export function startKube(
  opts: StartKubeOptions = {},
): Promise<KubeInfo & { stop(): Promise<void> }> {
  return withCleanup(async (onStop) => {
    const etcdBin = binaries.etcd();
    const apiserverBin = binaries.kubeApiserver();
    const kcmBin = binaries.kubeControllerManager();
    const kubectl = binaries.kubectl();
    const helm = binaries.helm();
    const controllers = opts.controllers ?? defaultControllers;

    const dir = await makeTempDir('kube');
    onStop(() => removeDir(dir));
    const pki = join(dir, 'pki');
    await mkdir(pki, { mode: 0o700 });
    await makeCertificates(pki);
    const caFile = join(pki, 'ca.crt');
    const ca = await readFile(caFile);
    const caData = ca.toString('base64');

    const binDir = join(dir, 'bin');
    await mkdir(binDir);
    await symlink(kubectl, join(binDir, 'kubectl'));
    await symlink(helm, join(binDir, 'helm'));

    const [etcdPort, apiPort, kcmPort] = (await freePorts(3)) as [number, number, number];

    // etcd
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const etcd = spawnServer(
      'etcd',
      etcdBin,
      [
        '--data-dir',
        join(dir, 'etcd'),
        '--listen-client-urls',
        etcdUrl,
        '--advertise-client-urls',
        etcdUrl,
        '--listen-peer-urls',
        'http://127.0.0.1:0',
        '--unsafe-no-fsync',
        '--log-level',
        'warn',
      ],
      join(dir, 'etcd.log'),
    );
    onStop(() => etcd.stop());
    await waitUntil(etcd, `etcd on ${etcdUrl}`, async () => {
      const r = await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(2000) });
      return r.ok && ((await r.json()) as { health?: string }).health === 'true';
    });

    // kube-apiserver
    const token = randomBytes(24).toString('base64url');
    const kcmToken = randomBytes(24).toString('base64url');
    const tokenFile = join(pki, 'tokens.csv');
    // token,user,uid,"group,..."  The controller-manager runs every
    // controller under its own identity (no per-controller service accounts),
    // so it needs more than system:kube-controller-manager's bootstrap role.
    await writeFile(
      tokenFile,
      `${token},admin,admin,"system:masters"\n${kcmToken},system:kube-controller-manager,kcm,"system:masters"\n`,
      { mode: 0o600 },
    );
    const server = `https://127.0.0.1:${apiPort}`;
    const apiserver = spawnServer(
      'kube-apiserver',
      apiserverBin,
      [
        `--etcd-servers=${etcdUrl}`,
        `--cert-dir=${join(dir, 'apiserver')}`,
        `--tls-cert-file=${join(pki, 'apiserver.crt')}`,
        `--tls-private-key-file=${join(pki, 'apiserver.key')}`,
        `--client-ca-file=${caFile}`,
        `--secure-port=${apiPort}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        // A loopback address is no valid Endpoints IP: do not publish one
        // for the kubernetes Service (it would fail and retry forever).
        '--endpoint-reconciler-type=none',
        '--service-cluster-ip-range=10.0.0.0/24',
        '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
        `--service-account-key-file=${join(pki, 'sa.key')}`,
        `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
        '--authorization-mode=RBAC',
        `--token-auth-file=${tokenFile}`,
        '--disable-admission-plugins=ServiceAccount',
        '--allow-privileged=true',
        '--profiling=false',
        '--v=1',
      ],
      join(dir, 'kube-apiserver.log'),
    );
    onStop(() => apiserver.stop());
    await waitUntil(
      apiserver,
      `kube-apiserver /readyz on ${server}`,
      async () => (await httpsGet(`${server}/readyz`, { ca, token })).status === 200,
      120_000,
    );
    const version = JSON.parse((await httpsGet(`${server}/version`, { ca, token })).body)
      .gitVersion as string;

    const kubeconfig = join(dir, 'admin.kubeconfig');
    await writeFile(kubeconfig, kubeconfigYaml(server, caData, 'admin', token), { mode: 0o600 });

    // kube-controller-manager
    if (controllers.length > 0) {
      const kcmConfig = join(pki, 'controller-manager.kubeconfig');
      await writeFile(kcmConfig, kubeconfigYaml(server, caData, 'kcm', kcmToken), { mode: 0o600 });
      const kcm: ServerProcess = spawnServer(
        'kube-controller-manager',
        kcmBin,
        [
          `--kubeconfig=${kcmConfig}`,
          `--controllers=${controllers.join(',')}`,
          `--service-account-private-key-file=${join(pki, 'sa.key')}`,
          `--root-ca-file=${caFile}`,
          '--use-service-account-credentials=false',
          '--leader-elect=false',
          '--bind-address=127.0.0.1',
          `--secure-port=${kcmPort}`,
          `--cert-dir=${join(dir, 'controller-manager')}`,
          '--profiling=false',
          '--v=1',
        ],
        join(dir, 'kube-controller-manager.log'),
      );
      onStop(() => kcm.stop());
      await waitUntil(
        kcm,
        `kube-controller-manager /healthz on 127.0.0.1:${kcmPort}`,
        async () => (await httpsGet(`https://127.0.0.1:${kcmPort}/healthz`)).status === 200,
      );
    }

    return { server, token, caFile, caData, kubeconfig, binDir, etcd: etcdUrl, version };
  });
}
