// The rendered chart against the real test apiserver: every case of the
// values matrix passes `kubectl apply --dry-run=server` (admission, schema,
// RBAC object validation), one applies for real and again without change, and
// `helm install` / `helm uninstall` work end to end.
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { exec, kubeEnv, run } from '../env/helpers.js';
import { binaries } from '../env/paths.js';
import { RECIPIENTS, chartDir, render, type Manifest } from './chart-render.js';

const kube = inject('kube');
const kubectlBin = join(kube.binDir, 'kubectl');
const suffix = randomBytes(3).toString('hex');
const ctl = `sk-ctl-${suffix}`;
const watched = [`sk-w1-${suffix}`, `sk-w2-${suffix}`];
let dir: string;

function kubectl(args: string[], input?: string) {
  return exec(kubectlBin, args, { env: kubeEnv(kube), input });
}

async function kubectlOk(args: string[], input?: string): Promise<string> {
  const r = await kubectl(args, input);
  if (r.code !== 0) throw new Error(`kubectl ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout.toString();
}

/**
 * Stand-ins for the Prometheus Operator's CRDs (same group, version, kinds;
 * no schema), so that the ServiceMonitor and PrometheusRule reach the server.
 */
function standInCrd(kind: string, plural: string): string {
  return JSON.stringify({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${plural}.monitoring.coreos.com` },
    spec: {
      group: 'monitoring.coreos.com',
      scope: 'Namespaced',
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          },
        },
      ],
    },
  });
}

const base = { storage: { bucket: 'snapkeeper-test' }, watchNamespaces: watched };
const matrix: { name: string; values: Record<string, unknown> }[] = [
  { name: 'defaults + a bucket', values: base },
  {
    name: 'one watched namespace, the control namespace itself',
    values: { ...base, watchNamespaces: [ctl] },
  },
  {
    name: 'an existing credentials Secret',
    values: { ...base, storage: { bucket: 'b-1', existingSecret: 'keys' } },
  },
  {
    name: 'credentials from values',
    values: {
      ...base,
      storage: { bucket: 'b-1', accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example-secret' },
    },
  },
  {
    name: 'IRSA',
    values: {
      ...base,
      dumper: {
        serviceAccount: {
          name: 'snapkeeper-backup',
          annotations: {
            'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/snapkeeper-backup',
          },
        },
      },
    },
  },
  {
    name: 'metrics on',
    values: {
      ...base,
      metrics: {
        serviceMonitor: { enabled: true, labels: { release: 'prometheus' } },
        prometheusRule: { enabled: true },
        dashboard: { enabled: true },
      },
    },
  },
  {
    name: 'encryption on',
    values: { ...base, encryption: { enabled: true, recipients: RECIPIENTS } },
  },
];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapkeeper-chart-apply-'));
  for (const ns of [ctl, ...watched]) await kubectlOk(['create', 'namespace', ns]);
  await kubectlOk(['apply', '-f', '-'], standInCrd('ServiceMonitor', 'servicemonitors'));
  await kubectlOk(['apply', '-f', '-'], standInCrd('PrometheusRule', 'prometheusrules'));
  await kubectlOk([
    'wait',
    '--for=condition=Established',
    'crd/servicemonitors.monitoring.coreos.com',
  ]);
  await kubectlOk([
    'wait',
    '--for=condition=Established',
    'crd/prometheusrules.monitoring.coreos.com',
  ]);
});

afterAll(async () => {
  for (const ns of [ctl, ...watched]) await kubectl(['delete', 'namespace', ns, '--wait=false']);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function renderToFile(
  values: Record<string, unknown>,
  name: string,
): Promise<{ file: string; objects: Manifest[] }> {
  const { yaml, objects } = await render(values, { namespace: ctl });
  const file = join(dir, `${name.replace(/\W+/g, '-')}.yaml`);
  await writeFile(file, yaml);
  return { file, objects };
}

/** "kind/name" as kubectl prints it ("role.rbac.authorization.k8s.io/x"). */
function shortRef(o: Manifest): string {
  const group = o.apiVersion.includes('/') ? o.apiVersion.split('/')[0] : '';
  return `${o.kind.toLowerCase()}${group ? `.${group}` : ''}/${o.metadata.name}`;
}

describe('chart: the rendered manifests apply to the real apiserver', () => {
  it.each(matrix)('$name: kubectl apply --dry-run=server', async ({ name, values }) => {
    const { file, objects } = await renderToFile(values, name);
    const out = await kubectlOk(['apply', '--dry-run=server', '-f', file]);
    // One line per object, each accepted by the server.
    const lines = out.trim().split('\n');
    expect(lines).toHaveLength(objects.length);
    for (const o of objects) expect(out).toContain(`${shortRef(o)} created (server dry run)`);
  });

  it('applies for real, then again without a change', async () => {
    const values = {
      ...base,
      storage: { bucket: 'b-1', existingSecret: 'keys' },
      encryption: { enabled: true, recipients: RECIPIENTS },
      metrics: { serviceMonitor: { enabled: true } },
    };
    const { file, objects } = await renderToFile(values, 'for-real');
    const first = await kubectlOk(['apply', '-f', file]);
    for (const o of objects) expect(first).toContain(`${shortRef(o)} created`);
    const again = await kubectlOk(['apply', '-f', file]);
    for (const o of objects) expect(again).toContain(`${shortRef(o)} unchanged`);

    // What the API server now holds is what the chart promised.
    const roles: string[] = [];
    for (const ns of [ctl, ...watched]) {
      const out = await kubectlOk(['-n', ns, 'get', 'roles,rolebindings', '-o', 'name']);
      roles.push(
        ...out
          .trim()
          .split('\n')
          .map((n) => `${ns}/${n}`),
      );
    }
    expect(roles.sort()).toEqual(
      [
        `${ctl}/role.rbac.authorization.k8s.io/snapkeeper-control`,
        `${ctl}/rolebinding.rbac.authorization.k8s.io/snapkeeper-control`,
        ...watched.flatMap((w) => [
          `${w}/role.rbac.authorization.k8s.io/snapkeeper-watch`,
          `${w}/rolebinding.rbac.authorization.k8s.io/snapkeeper-watch`,
        ]),
      ].sort(),
    );
    const clusterRoles = await kubectlOk([
      'get',
      'clusterroles',
      '-l',
      'app.kubernetes.io/part-of=snapkeeper',
      '-o',
      'name',
    ]);
    expect(clusterRoles.trim()).toBe('');
    const sa = JSON.parse(
      await kubectlOk(['-n', ctl, 'get', 'serviceaccount', 'snapkeeper-backup', '-o', 'json']),
    ) as {
      automountServiceAccountToken?: boolean;
    };
    expect(sa.automountServiceAccountToken).toBe(false);

    // The bindings take effect: the operator may read pods where it watches,
    // and nothing where it does not; the backup account may do nothing.
    const operator = `system:serviceaccount:${ctl}:snapkeeper`;
    const backup = `system:serviceaccount:${ctl}:snapkeeper-backup`;
    const canI = async (as: string, ns: string, ...what: string[]) =>
      (await kubectl(['auth', 'can-i', '--as', as, '-n', ns, ...what])).stdout.toString().trim();
    expect(await canI(operator, watched[0]!, 'watch', 'pods')).toBe('yes');
    expect(await canI(operator, watched[1]!, 'get', 'secrets')).toBe('yes');
    // list + watch too, for the metadata-only Secret informer (docs/operator.md,
    // "Credentials: the trade-off"); still nothing where it does not watch.
    expect(await canI(operator, watched[1]!, 'list', 'secrets')).toBe('yes');
    expect(await canI(operator, watched[1]!, 'watch', 'secrets')).toBe('yes');
    expect(await canI(operator, 'default', 'get', 'secrets')).toBe('no');
    expect(await canI(operator, 'default', 'list', 'secrets')).toBe('no');
    expect(await canI(operator, 'default', 'list', 'pods')).toBe('no');
    expect(await canI(operator, ctl, 'create', 'cronjobs.batch')).toBe('yes');
    expect(await canI(operator, ctl, 'create', 'leases.coordination.k8s.io')).toBe('yes');
    expect(await canI(operator, ctl, 'create', 'deployments.apps')).toBe('no');
    expect(await canI(operator, ctl, 'create', 'rolebindings.rbac.authorization.k8s.io')).toBe(
      'no',
    );
    for (const ns of [ctl, ...watched]) {
      for (const verb of ['get', 'list', 'create']) {
        for (const resource of ['pods', 'secrets', 'cronjobs.batch']) {
          expect(
            await canI(backup, ns, verb, resource),
            `${backup} ${verb} ${resource} in ${ns}`,
          ).toBe('no');
        }
      }
    }
  });

  it('helm install prints what to annotate next; helm uninstall removes what it installed', async () => {
    const ns = `sk-helm-${suffix}`;
    const w = `sk-hw-${suffix}`;
    await kubectlOk(['create', 'namespace', w]);
    const env = {
      ...kubeEnv(kube),
      HELM_CACHE_HOME: join(dir, 'helm-cache'),
      HELM_CONFIG_HOME: join(dir, 'helm-config'),
    };
    const values = join(dir, 'helm-values.json');
    await writeFile(values, JSON.stringify({ ...base, watchNamespaces: [w] }));
    const helmBin = binaries.helm();
    try {
      const install = await run(
        helmBin,
        [
          'install',
          'snapkeeper',
          chartDir,
          '-n',
          ns,
          '--create-namespace',
          '-f',
          values,
          '--wait=false',
        ],
        { env },
      );
      expect(install).toContain('STATUS: deployed');
      expect(install).toContain(`kubectl -n ${w} patch deployment`);
      expect(install).toContain('snapkeeper.io/enabled: "true"');
      await kubectlOk([
        '-n',
        ns,
        'get',
        'deployment/snapkeeper',
        'configmap/snapkeeper-config',
        'role/snapkeeper-control',
      ]);
      await kubectlOk([
        '-n',
        watched[0]!,
        'get',
        'role/snapkeeper-watch',
        'rolebinding/snapkeeper-watch',
      ]);

      await run(helmBin, ['uninstall', 'snapkeeper', '-n', ns, '--wait'], { env });
      const left = await kubectl(['-n', w, 'get', 'role/snapkeeper-watch']);
      expect(left.stderr).toContain('NotFound');
      const leftCtl = await kubectlOk([
        '-n',
        ns,
        'get',
        'deployments,configmaps,roles,serviceaccounts',
        '-l',
        'app.kubernetes.io/instance=snapkeeper',
        '-o',
        'name',
      ]);
      expect(leftCtl.trim()).toBe('');
    } finally {
      await kubectl(['delete', 'namespace', ns, w, '--wait=false']);
    }
  });
});
