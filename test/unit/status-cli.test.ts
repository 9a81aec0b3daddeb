// The CLI's choice of control namespace and its one-line user mistakes; no
// cluster needed (the kube suites run the commands against the apiserver).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli.js';
import { clusterFor } from '../../src/cli/status.js';
import type { CliContext } from '../../src/cli/context.js';
import { createLogger } from '../../src/log.js';

let dir: string;
let withNs: string;
let withoutNs: string;

function kubeconfig(namespace?: string): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c', cluster: { server: 'https://127.0.0.1:1' } }],
    users: [{ name: 'u', user: { token: 'not-a-real-token' } }],
    contexts: [
      { name: 'x', context: { cluster: 'c', user: 'u', ...(namespace ? { namespace } : {}) } },
    ],
    'current-context': 'x',
  });
}

function ctx(env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const w = (f: (s: string) => void) =>
    new Writable({
      write(c, _e, cb) {
        f(String(c));
        cb();
      },
    });
  const c: CliContext = {
    stdout: w((s) => (out += s)),
    stderr: w((s) => (err += s)),
    env,
    log: createLogger({ level: 'error', format: 'text', write: () => {} }),
    signal: new AbortController().signal,
  };
  return { c, out: () => out, err: () => err };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapkeeper-cli-'));
  withNs = join(dir, 'with-ns.json');
  withoutNs = join(dir, 'without-ns.json');
  await writeFile(withNs, kubeconfig('backups'));
  await writeFile(withoutNs, kubeconfig());
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the control namespace of status and trigger', () => {
  it.each([
    ['-n wins', { namespace: 'flag' }, { SNAPKEEPER_CONTROL_NAMESPACE: 'env' }, 'with', 'flag'],
    [
      'then SNAPKEEPER_CONTROL_NAMESPACE',
      {},
      { SNAPKEEPER_CONTROL_NAMESPACE: 'env' },
      'with',
      'env',
    ],
    ["then the context's namespace", {}, {}, 'with', 'backups'],
    ['else snapkeeper', {}, {}, 'without', 'snapkeeper'],
  ] as const)('%s', (_n, flags, env, file, want) => {
    const kubeconfigFile = file === 'with' ? withNs : withoutNs;
    const { c } = ctx(env);
    expect(clusterFor({ ...flags, kubeconfig: kubeconfigFile }, c).namespace).toBe(want);
  });

  it('given KUBECONFIG in the environment (as kubectl passes it to a plugin), then it is used', () => {
    const { c } = ctx({ KUBECONFIG: withNs });
    const { kc, namespace } = clusterFor({}, c);
    expect(kc.getCurrentCluster()?.server).toBe('https://127.0.0.1:1');
    expect(namespace).toBe('backups');
  });
});

describe('user mistakes: one line, exit 2', () => {
  it.each([
    [['status', '-o', 'yaml'], "snapkeeper: --output must be table or json, got 'yaml'\n"],
    [
      ['status', '--kubeconfig', '/nonexistent/kubeconfig'],
      'snapkeeper: kubeconfig /nonexistent/kubeconfig does not exist\n',
    ],
    [
      ['trigger', 'shop/db', '--wait', '--timeout', 'soon'],
      'snapkeeper: --timeout must be a positive number of seconds\n',
    ],
  ])('%j', async (argv, line) => {
    const { c, err, out } = ctx();
    expect(await run(argv, c)).toBe(2);
    expect(err()).toBe(line);
    expect(out()).toBe('');
  });

  it('given an unreachable cluster, then one line and exit 1', async () => {
    const { c, err } = ctx();
    expect(await run(['status', '--kubeconfig', withNs], c)).toBe(1);
    expect(err()).toMatch(/^snapkeeper: cannot list CronJobs in namespace backups: .+\n$/);
    expect(err().split('\n')).toHaveLength(2);
  });
});
