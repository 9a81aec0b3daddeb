// The operator's own kubeconfig loader (src/kube/access.ts) against the real
// kube-apiserver: a kubeconfig file (CA as a relative file path, bearer
// token) and the in-cluster ServiceAccount layout (token and CA files, the
// service host/port from the environment) both reach the server, watches
// included, without client-node's KubeConfig.
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { loadKubeAccess } from '../../src/kube/access.js';
import { createKubeApi } from '../../src/kube/api.js';
import { newNamespace } from './fixtures.js';

const kube = inject('kube');

/** One Secret list and one watch event through the loaded access. */
async function listAndWatch(access: Awaited<ReturnType<typeof loadKubeAccess>>): Promise<void> {
  expect('makeApiClient' in access).toBe(false); // not client-node's KubeConfig
  const ns = await newNamespace(kube, 'access');
  const api = createKubeApi(access);
  try {
    const source = api.secretsMetadata(ns);
    const list = await source.list();
    const seen: string[] = [];
    let done: unknown = 'open';
    const cancel = await source.watch(
      list.resourceVersion,
      (e) => seen.push(`${e.type} ${e.object.metadata?.name}`),
      (err) => (done = err),
    );
    await api.secrets.create({ metadata: { name: 'w', namespace: ns }, stringData: { a: 'b' } });
    for (let i = 0; i < 100 && !seen.includes('ADDED w'); i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(seen).toContain('ADDED w');
    expect(done).toBe('open'); // still watching
    cancel();
    expect((await api.read.getSecret(ns, 'w'))?.metadata?.name).toBe('w');
  } finally {
    api.close();
  }
}

describe('the operator kubeconfig loader', () => {
  it('given a kubeconfig with a relative CA file and a token, then requests and watches reach the apiserver', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'snapkeeper-access-'));
    await writeFile(join(dir, 'ca.pem'), await readFile(kube.caFile));
    const file = join(dir, 'config');
    await writeFile(
      file,
      [
        'apiVersion: v1',
        'kind: Config',
        'clusters:',
        `- name: c\n  cluster:\n    server: ${kube.server}\n    certificate-authority: ca.pem`,
        `users:\n- name: u\n  user:\n    token: ${kube.token}`,
        'contexts:\n- name: x\n  context:\n    cluster: c\n    user: u',
        'current-context: x',
        '',
      ].join('\n'),
    );
    await listAndWatch(await loadKubeAccess({ kubeconfig: file, env: {} }));
  });

  it('given the in-cluster layout, then the ServiceAccount token and CA are used', async () => {
    const sa = await mkdtemp(join(tmpdir(), 'snapkeeper-sa-'));
    await writeFile(join(sa, 'token'), `${kube.token}\n`);
    await writeFile(join(sa, 'ca.crt'), await readFile(kube.caFile));
    const url = new URL(kube.server);
    const access = await loadKubeAccess({
      env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port },
      serviceAccountDir: sa,
    });
    await listAndWatch(access);
  });

  it('given a wrong token, then a request is refused with 401', async () => {
    const sa = await mkdtemp(join(tmpdir(), 'snapkeeper-sa-'));
    await writeFile(join(sa, 'token'), 'not-the-token');
    await writeFile(join(sa, 'ca.crt'), await readFile(kube.caFile));
    const url = new URL(kube.server);
    const api = createKubeApi(
      await loadKubeAccess({
        env: { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port },
        serviceAccountDir: sa,
      }),
    );
    try {
      await expect(api.read.getSecret('default', 'x')).rejects.toMatchObject({ statusCode: 401 });
    } finally {
      api.close();
    }
  });
});
