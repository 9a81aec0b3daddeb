// `kubectl snapkeeper status`: the real kubectl finds the same CLI on the
// PATH as kubectl-snapkeeper (as `npm install -g` would put it), passes it the
// arguments and KUBECONFIG, and the plugin reads the cluster.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BatchV1Api, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { exec, kubeConfig, uniqueName } from '../env/helpers.js';
import { binaries, repoRoot } from '../env/paths.js';
import { STATUS_ANNOTATIONS as A } from '../../src/labels.js';
import type { StatusRow } from '../../src/cli/status-table.js';
import { newNamespace } from './fixtures.js';
import { createSnapkeeperCronJob } from './status-fixtures.js';

const kube = inject('kube');
let binDir: string;
let buildDir: string;
let control: string;
let shop: string;

beforeAll(async () => {
  // The CLI as `npm run build` bundles it, into a directory under
  // node_modules so its external dependencies resolve.
  buildDir = join(repoRoot, 'node_modules', '.cache', uniqueName('snapkeeper-plugin'));
  const out = join(buildDir, 'cli.js');
  await build({
    entryPoints: [join(repoRoot, 'src', 'main.ts')],
    outfile: out,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    define: { SNAPKEEPER_VERSION: '"test"' },
    logLevel: 'warning',
  });
  binDir = await mkdtemp(join(tmpdir(), 'snapkeeper-plugin-'));
  const plugin = join(binDir, 'kubectl-snapkeeper');
  await writeFile(plugin, `#!/bin/sh\nexec "${process.execPath}" "${out}" "$@"\n`);
  await chmod(plugin, 0o755);

  const kc = kubeConfig(kube);
  control = await newNamespace(kube, 'sk-plugin');
  shop = uniqueName('shop').replace('_', '-'); // named only: the plugin reads the CronJob
  const cj = await createSnapkeeperCronJob(
    kc,
    control,
    { namespace: shop, name: 'postgres' },
    'postgres-0',
  );
  await kc.makeApiClient(BatchV1Api).patchNamespacedCronJob(
    {
      namespace: control,
      name: cj.metadata!.name!,
      body: {
        metadata: {
          annotations: {
            [A.lastSuccess]: '2026-11-20T03:00:12.300Z',
            [A.lastSize]: '1234',
            [A.lastResult]: 'success',
          },
        },
      },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
});

afterAll(async () => {
  if (binDir) await rm(binDir, { recursive: true, force: true });
  if (buildDir) await rm(buildDir, { recursive: true, force: true });
});

describe('kubectl snapkeeper', () => {
  const kubectl = (args: string[]) =>
    exec(binaries.kubectl(), args, {
      env: { PATH: `${binDir}:${process.env.PATH}`, KUBECONFIG: kube.kubeconfig },
    });

  it('kubectl lists the plugin', async () => {
    const r = await kubectl(['plugin', 'list']);
    expect(r.stdout.toString()).toContain(join(binDir, 'kubectl-snapkeeper'));
  });

  it('kubectl snapkeeper status -o json prints the row of the workload', async () => {
    const r = await kubectl(['snapkeeper', 'status', '-n', control, '-o', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout.toString()) as StatusRow[];
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      namespace: shop,
      workload: 'postgres',
      engine: 'postgresql',
      lastSuccess: '2026-11-20T03:00:12.300Z',
      lastSizeBytes: 1234,
    });
  });

  it('a user mistake through kubectl is still one line and exit 2', async () => {
    const r = await kubectl(['snapkeeper', 'trigger', 'nope', '-n', control]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("snapkeeper: expected <namespace>/<workload>, got 'nope'\n");
  });
});
