// The operator's own kubeconfig loader (src/kube/access.ts): what it puts on
// a request from each kind of kubeconfig entry, what it hands to client-node,
// and the user's mistakes. Against the real apiserver: test/kube/kube-access.test.ts.
import { mkdtemp, writeFile } from 'node:fs/promises';
import type { RequestOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadKubeAccess } from '../../src/kube/access.js';
import { UserError } from '../../src/errors.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapkeeper-kubeconfig-'));
});

const b64 = (s: string) => Buffer.from(s).toString('base64');

async function kubeconfig(name: string, cluster: string, user: string, context = 'x') {
  const file = join(dir, name);
  await writeFile(
    file,
    `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
${cluster.replace(/^/gm, '    ')}
users:
- name: u
  user:
${user.replace(/^/gm, '    ')}
contexts:
- name: x
  context:
    cluster: c
    user: u
current-context: ${context}
`,
  );
  return file;
}

async function applied(file: string): Promise<RequestOptions> {
  const access = await loadKubeAccess({ kubeconfig: file, env: {} });
  const opts: RequestOptions = { headers: {} };
  await access.applyToHTTPSOptions(opts);
  return opts;
}

describe('the operator kubeconfig loader', () => {
  it('given a client certificate, CA data, a TLS server name and skip-verify, then each is on the request', async () => {
    const file = await kubeconfig(
      'certs',
      `server: https://10.0.0.1:6443/\ncertificate-authority-data: ${b64('CA')}\ntls-server-name: api.local\ninsecure-skip-tls-verify: true`,
      `client-certificate-data: ${b64('CERT')}\nclient-key-data: ${b64('KEY')}`,
    );
    const access = await loadKubeAccess({ kubeconfig: file, env: {} });
    expect(access.getCurrentCluster()).toEqual({ server: 'https://10.0.0.1:6443' });
    const opts = await applied(file);
    expect(String(opts.ca)).toBe('CA');
    expect(String(opts.cert)).toBe('CERT');
    expect(String(opts.key)).toBe('KEY');
    expect(opts.servername).toBe('api.local');
    expect(opts.rejectUnauthorized).toBe(false);
    expect(opts.headers).toEqual({});
  });

  it('given a token file relative to the kubeconfig, then it is the bearer token; basic auth otherwise', async () => {
    await writeFile(join(dir, 'tok'), 'from-file\n');
    const token = await applied(await kubeconfig('tokfile', 'server: https://k', 'tokenFile: tok'));
    expect(token.headers).toEqual({ Authorization: 'Bearer from-file' });
    expect(token.rejectUnauthorized).toBeUndefined();
    const basic = await applied(
      await kubeconfig('basic', 'server: https://k', 'username: ann\npassword: pw'),
    );
    expect(basic.auth).toBe('ann:pw');
    expect(basic.headers).toEqual({});
  });

  it('given an exec plugin, then client-node loads it; a plain one from KUBECONFIG is read here', async () => {
    const exec = await kubeconfig(
      'exec',
      'server: https://k',
      'exec:\n  apiVersion: client.authentication.k8s.io/v1\n  command: get-token',
    );
    expect('makeApiClient' in (await loadKubeAccess({ kubeconfig: exec, env: {} }))).toBe(true);
    const plain = await kubeconfig('plain', 'server: https://k', 'token: t');
    expect('makeApiClient' in (await loadKubeAccess({ env: { KUBECONFIG: plain } }))).toBe(false);
  });

  it('given a missing file or no current context, then it is the user’s mistake, in one line', async () => {
    await expect(loadKubeAccess({ kubeconfig: join(dir, 'nope'), env: {} })).rejects.toThrow(
      new UserError(`kubeconfig ${join(dir, 'nope')} does not exist`),
    );
    const noContext = await kubeconfig('noctx', 'server: https://k', 'token: t', 'other');
    await expect(loadKubeAccess({ kubeconfig: noContext, env: {} })).rejects.toThrow(
      /no Kubernetes cluster configured/,
    );
    await writeFile(join(dir, 'bad'), 'clusters: [');
    await expect(loadKubeAccess({ kubeconfig: join(dir, 'bad'), env: {} })).rejects.toThrow(
      /^cannot load the Kubernetes configuration: /,
    );
  });
});
