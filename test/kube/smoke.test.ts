// The kube environment really runs: the apiserver is the version we built and
// stores workloads, RBAC is enforced for ServiceAccount tokens, the
// controller-manager collects garbage and turns CronJobs into Jobs, and
// kubectl and helm reach the cluster.
import { AppsV1Api, BatchV1Api, CoreV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { exec, kubeConfig, kubeEnv, run, scratchDir, serviceAccountToken } from '../env/helpers.js';
import { httpsGet } from '../env/servers/kube.js';
import { version } from '../env/paths.js';
import { eventually, newNamespace } from './fixtures.js';

const kube = inject('kube');

const deployment = (name: string) => ({
  metadata: { name },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: 'db', image: 'postgres:17' }] },
    },
  },
});

describe('kube-apiserver', () => {
  it('given the admin token, when reading /version, then it is the version provisioned', async () => {
    const r = await httpsGet(`${kube.server}/version`, {
      ca: Buffer.from(kube.caData, 'base64'),
      token: kube.token,
    });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({
      gitVersion: version('KUBERNETES_VERSION'),
      major: '1',
    });
  });

  it('given no token, when reading a namespace, then the request is refused', async () => {
    const r = await httpsGet(`${kube.server}/api/v1/namespaces/default`, {
      ca: Buffer.from(kube.caData, 'base64'),
    });
    expect([401, 403]).toContain(r.status);
  });

  it('given a Deployment, when created, then it is stored and read back', async () => {
    const ns = await newNamespace(kube, 'ns');
    const apps = kubeConfig(kube).makeApiClient(AppsV1Api);
    await apps.createNamespacedDeployment({ namespace: ns, body: deployment('postgres') });
    const got = await apps.readNamespacedDeployment({ namespace: ns, name: 'postgres' });
    expect(got.metadata?.uid).toBeTruthy();
    expect(got.spec?.template.spec?.containers[0]?.image).toBe('postgres:17');
  });

  it('given a ServiceAccount token (TokenRequest), when acting, then RBAC allows exactly what is bound', async () => {
    const ns = await newNamespace(kube, 'ns');
    const rbac = kubeConfig(kube).makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'read-pods' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
      },
    });
    const token = await serviceAccountToken(kube, ns, 'reader');
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'reader' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'read-pods' },
        subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: ns }],
      },
    });
    const core = kubeConfig(kube, token).makeApiClient(CoreV1Api);
    await eventually(
      'the RoleBinding to take effect',
      async () =>
        (await core.listNamespacedPod({ namespace: ns }).catch(() => undefined)) ? true : undefined,
      60_000,
    );
    await expect(core.listNamespacedSecret({ namespace: ns })).rejects.toMatchObject({ code: 403 });
    await expect(core.listNamespacedPod({ namespace: 'default' })).rejects.toMatchObject({
      code: 403,
    });
  });
});

describe('kube-controller-manager', () => {
  it('given a dependent with an ownerReference, when the owner is deleted, then the garbage collector deletes it', async () => {
    const ns = await newNamespace(kube, 'ns');
    const core = kubeConfig(kube).makeApiClient(CoreV1Api);
    const owner = await core.createNamespacedConfigMap({
      namespace: ns,
      body: { metadata: { name: 'owner' } },
    });
    await core.createNamespacedConfigMap({
      namespace: ns,
      body: {
        metadata: {
          name: 'dependent',
          ownerReferences: [
            { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: owner.metadata!.uid! },
          ],
        },
      },
    });
    await core.deleteNamespacedConfigMap({ namespace: ns, name: 'owner' });
    await eventually(
      'the dependent to be collected',
      async () => {
        try {
          await core.readNamespacedConfigMap({ namespace: ns, name: 'dependent' });
          return undefined;
        } catch (err) {
          if ((err as { code?: number }).code === 404) return true;
          throw err;
        }
      },
      60_000,
    );
  });

  it('given a namespace, when created, then the serviceaccount controller gives it a default ServiceAccount', async () => {
    const ns = await newNamespace(kube, 'ns');
    const core = kubeConfig(kube).makeApiClient(CoreV1Api);
    await eventually(
      'default ServiceAccount',
      async () =>
        core
          .readNamespacedServiceAccount({ namespace: ns, name: 'default' })
          .catch(() => undefined),
      60_000,
    );
  });

  it('given a Job made from a CronJob, when it runs, then the job controller creates its Pod (Pending: no nodes)', async () => {
    const ns = await newNamespace(kube, 'ns');
    const batch = kubeConfig(kube).makeApiClient(BatchV1Api);
    const core = kubeConfig(kube).makeApiClient(CoreV1Api);
    const cron = await batch.createNamespacedCronJob({
      namespace: ns,
      body: {
        metadata: { name: 'backup' },
        spec: {
          schedule: '0 3 * * *',
          jobTemplate: {
            spec: {
              template: {
                spec: {
                  restartPolicy: 'Never',
                  containers: [{ name: 'dump', image: 'busybox', command: ['true'] }],
                },
              },
            },
          },
        },
      },
    });
    await batch.createNamespacedJob({
      namespace: ns,
      body: {
        metadata: {
          name: 'backup-manual',
          ownerReferences: [
            {
              apiVersion: 'batch/v1',
              kind: 'CronJob',
              name: 'backup',
              uid: cron.metadata!.uid!,
              controller: true,
            },
          ],
        },
        spec: cron.spec!.jobTemplate.spec!,
      },
    });
    const pod = await eventually(
      'the Job to create a Pod',
      async () => {
        const pods = await core.listNamespacedPod({
          namespace: ns,
          labelSelector: 'job-name=backup-manual',
        });
        return pods.items[0];
      },
      60_000,
    );
    expect(pod.status?.phase).toBe('Pending');
  });
});

describe('kubectl and helm', () => {
  it('kubectl reaches the apiserver with the admin kubeconfig', async () => {
    const out = await run(join(kube.binDir, 'kubectl'), ['version', '-o', 'json'], {
      env: kubeEnv(kube),
    });
    const v = JSON.parse(out) as {
      clientVersion: { gitVersion: string };
      serverVersion: { gitVersion: string };
    };
    expect(v.clientVersion.gitVersion).toBe(version('KUBERNETES_VERSION'));
    expect(v.serverVersion.gitVersion).toBe(version('KUBERNETES_VERSION'));
    const auth = await run(join(kube.binDir, 'kubectl'), ['auth', 'can-i', '*', '*'], {
      env: kubeEnv(kube),
    });
    expect(auth.trim()).toBe('yes');
  });

  it('helm runs, renders a chart and applies it with server-side dry run', async () => {
    const helm = join(kube.binDir, 'helm');
    const env = {
      ...kubeEnv(kube),
      HELM_CACHE_HOME: await scratchDir('helm'),
      HELM_CONFIG_HOME: await scratchDir('helm'),
      HELM_DATA_HOME: await scratchDir('helm'),
    };
    expect(await run(helm, ['version', '--short'], { env })).toContain(version('HELM_VERSION'));
    const chart = join(await scratchDir('chart'), 'smoke');
    await mkdir(join(chart, 'templates'), { recursive: true });
    await writeFile(join(chart, 'Chart.yaml'), 'apiVersion: v2\nname: smoke\nversion: 0.1.0\n');
    await writeFile(
      join(chart, 'templates', 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n',
    );
    const ns = await newNamespace(kube, 'ns');
    const r = await exec(
      helm,
      ['install', 'smoke', chart, '--namespace', ns, '--wait', '--timeout', '60s'],
      { env },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const cm = await kubeConfig(kube)
      .makeApiClient(CoreV1Api)
      .readNamespacedConfigMap({ namespace: ns, name: 'smoke' });
    expect(cm.data?.kube).toBe(version('KUBERNETES_VERSION'));
    const template = await run(helm, ['template', 'x', chart], { env });
    const applied = await exec(
      join(kube.binDir, 'kubectl'),
      ['apply', '--dry-run=server', '-n', ns, '-f', '-'],
      {
        env,
        input: template,
      },
    );
    expect(applied.stderr).toBe('');
    expect(applied.stdout.toString()).toContain('configmap/x created (server dry run)');
  });
});
