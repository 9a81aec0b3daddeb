// The chart over a matrix of values: `helm lint` and `helm template` succeed
// and render what each setting promises; the schema rejects, at install
// time, each value that would only fail later, with a message that names it.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOperatorConfig } from '../../src/config/operator.js';
import { repoRoot } from '../env/paths.js';
import {
  RECIPIENTS,
  chartDir,
  find,
  helm,
  minimalValues,
  one,
  render,
  type Manifest,
} from './chart-render.js';

type Values = Record<string, unknown>;

/** The operator's environment as the chart sets it (ConfigMap + Deployment env). */
function operatorEnv(objects: Manifest[]): Record<string, string> {
  const cm = one(objects, 'ConfigMap', 'snapkeeper-config') as Manifest & {
    data: Record<string, string>;
  };
  return cm.data;
}

function operatorContainer(objects: Manifest[]) {
  const d = one(objects, 'Deployment') as Manifest & {
    spec: {
      template: { spec: Record<string, unknown> & { containers: Record<string, unknown>[] } };
    };
  };
  return { pod: d.spec.template.spec, container: d.spec.template.spec.containers[0]! };
}

/** The operator's own validation of the environment the chart sets (as in the pod). */
function operatorConfig(objects: Manifest[]) {
  return loadOperatorConfig({
    ...operatorEnv(objects),
    POD_NAME: 'snapkeeper-0',
    POD_NAMESPACE: 'snapkeeper',
  });
}

/**
 * The operator's environment in docs/architecture.md, under the heading that
 * starts with `heading`: `rows` are the names of the first column (`_MYSQL`
 * after `SNAPKEEPER_IMAGE_POSTGRESQL` is shorthand for SNAPKEEPER_IMAGE_MYSQL),
 * `mentioned` every variable name the section puts in backticks.
 */
async function documentedVariables(
  heading: string,
): Promise<{ rows: string[]; mentioned: string[] }> {
  const doc = await readFile(join(repoRoot, 'docs', 'architecture.md'), 'utf8');
  const start = doc.indexOf(`## ${heading}`);
  if (start < 0) throw new Error(`docs/architecture.md has no "## ${heading}"`);
  const end = doc.indexOf('\n## ', start + 3);
  const section = doc.slice(start, end < 0 ? undefined : end);
  const rows: string[] = [];
  for (const line of section.split('\n')) {
    if (!line.startsWith('| `')) continue;
    let base = '';
    for (const [, n] of line.split('|')[1]!.matchAll(/`([A-Z0-9_]+)`/g)) {
      if (n!.startsWith('_')) rows.push(base + n!.slice(1));
      else {
        rows.push(n!);
        base = n!.slice(0, n!.lastIndexOf('_') + 1);
      }
    }
  }
  const mentioned = [...rows, ...[...section.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1]!)];
  return { rows, mentioned };
}

const cases: { name: string; values: Values; check: (objects: Manifest[]) => void }[] = [
  {
    name: 'defaults + a bucket',
    values: minimalValues(),
    check: (objects) => {
      const env = operatorEnv(objects);
      expect(env.SNAPKEEPER_STORAGE).toBe('s3://snapkeeper-test');
      expect(env.SNAPKEEPER_WATCH_NAMESPACES).toBe('default');
      expect(env.SNAPKEEPER_CONTROL_NAMESPACE).toBe('snapkeeper');
      expect(env.SNAPKEEPER_DEFAULT_ENCRYPTION).toBe('false');
      expect(env.SNAPKEEPER_IMAGE_POSTGRESQL).toBe('ghcr.io/snapkeeper/dumper-postgresql:0.1.0');
      expect(env.SNAPKEEPER_BACKUP_SERVICE_ACCOUNT).toBe('snapkeeper-backup');
      expect(env).not.toHaveProperty('SNAPKEEPER_S3_CREDENTIALS_SECRET');
      // The chart's defaults are the operator's (a chart that sets nothing gets the same Jobs).
      expect(operatorConfig(objects).job).toEqual(
        loadOperatorConfig({
          SNAPKEEPER_WATCH_NAMESPACES: 'default',
          SNAPKEEPER_STORAGE: 's3://b-1',
        }).job,
      );
      expect(operatorConfig(objects).resyncSeconds).toBe(300);
      const { pod, container } = operatorContainer(objects);
      expect(pod.replicas ?? 1).toBe(1);
      expect(pod.serviceAccountName).toBe('snapkeeper');
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(container.securityContext).toMatchObject({
        runAsNonRoot: true,
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expect(container.args).toEqual(['operator']);
      expect(container.livenessProbe).toMatchObject({
        httpGet: { path: '/healthz', port: 'http' },
      });
      expect(container.readinessProbe).toMatchObject({
        httpGet: { path: '/readyz', port: 'http' },
      });
      expect(container.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
      expect(env.SNAPKEEPER_HTTP_ADDRESS).toBe('0.0.0.0:8080');
      expect(container.env).toEqual([
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
      ]);
      expect(container.resources).toMatchObject({ requests: { cpu: '50m', memory: '128Mi' } });
      // V8's heap limit: 3/4 of the 512Mi limit, on the image's own entry point.
      expect(container.resources).toMatchObject({ limits: { memory: '512Mi' } });
      expect(container.command).toEqual(['node', '--max-old-space-size=384', '/app/dist/cli.js']);
      const backup = one(objects, 'ServiceAccount', 'snapkeeper-backup');
      expect(backup.automountServiceAccountToken).toBe(false);
      // The backup ServiceAccount is bound to nothing.
      for (const rb of find(objects, 'RoleBinding')) {
        expect(JSON.stringify(rb.subjects)).not.toContain('snapkeeper-backup');
      }
      expect(find(objects, 'Secret')).toEqual([]);
      expect(find(objects, 'ServiceMonitor')).toEqual([]);
    },
  },
  {
    name: 'several watched namespaces',
    values: minimalValues(['default', 'shop', 'billing']),
    check: (objects) => {
      expect(operatorEnv(objects).SNAPKEEPER_WATCH_NAMESPACES).toBe('default,shop,billing');
      for (const ns of ['default', 'shop', 'billing']) {
        one(objects, 'Role', 'snapkeeper-watch', ns);
        const rb = one(objects, 'RoleBinding', 'snapkeeper-watch', ns);
        expect(rb.subjects).toEqual([
          { kind: 'ServiceAccount', name: 'snapkeeper', namespace: 'snapkeeper' },
        ]);
      }
      one(objects, 'Role', 'snapkeeper-control', 'snapkeeper');
      expect(find(objects, 'Role')).toHaveLength(4);
      expect(objects.filter((o) => o.kind.startsWith('Cluster'))).toEqual([]);
    },
  },
  {
    name: 'an existing credentials Secret, MinIO endpoint and prefix',
    values: {
      ...minimalValues(),
      storage: {
        bucket: 'backups',
        prefix: 'prod/eu',
        endpoint: 'http://minio.minio.svc:9000',
        region: 'us-east-1',
        forcePathStyle: true,
        existingSecret: 'my-s3-keys',
      },
    },
    check: (objects) => {
      const env = operatorEnv(objects);
      expect(env).toMatchObject({
        SNAPKEEPER_STORAGE: 's3://backups/prod/eu',
        SNAPKEEPER_S3_ENDPOINT: 'http://minio.minio.svc:9000',
        SNAPKEEPER_S3_REGION: 'us-east-1',
        SNAPKEEPER_S3_FORCE_PATH_STYLE: 'true',
        SNAPKEEPER_S3_CREDENTIALS_SECRET: 'my-s3-keys',
      });
      expect(find(objects, 'Secret')).toEqual([]);
    },
  },
  {
    name: 'credentials from values',
    values: {
      ...minimalValues(),
      storage: {
        bucket: 'backups',
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI-example',
      },
    },
    check: (objects) => {
      const secret = one(objects, 'Secret', 'snapkeeper-s3') as Manifest & {
        data: Record<string, string>;
      };
      expect(Buffer.from(secret.data.AWS_ACCESS_KEY_ID!, 'base64').toString()).toBe('AKIDEXAMPLE');
      expect(Buffer.from(secret.data.AWS_SECRET_ACCESS_KEY!, 'base64').toString()).toBe(
        'wJalrXUtnFEMI-example',
      );
      expect(operatorEnv(objects).SNAPKEEPER_S3_CREDENTIALS_SECRET).toBe('snapkeeper-s3');
      // The secret appears nowhere but in the Secret.
      const elsewhere = JSON.stringify(objects.filter((o) => o.kind !== 'Secret'));
      expect(elsewhere).not.toContain('wJalrXUtnFEMI-example');
    },
  },
  {
    name: 'IRSA / Workload Identity (no keys)',
    values: {
      ...minimalValues(),
      dumper: {
        serviceAccount: {
          name: 'snapkeeper-backup',
          annotations: {
            'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/snapkeeper-backup',
            'iam.gke.io/gcp-service-account': 'snapkeeper@project.iam.gserviceaccount.com',
          },
        },
      },
    },
    check: (objects) => {
      const sa = one(objects, 'ServiceAccount', 'snapkeeper-backup');
      expect(sa.metadata.annotations).toEqual({
        'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/snapkeeper-backup',
        'iam.gke.io/gcp-service-account': 'snapkeeper@project.iam.gserviceaccount.com',
      });
      expect(sa.automountServiceAccountToken).toBe(false);
      expect(operatorEnv(objects)).not.toHaveProperty('SNAPKEEPER_S3_CREDENTIALS_SECRET');
      expect(find(objects, 'Secret')).toEqual([]);
    },
  },
  {
    name: 'metrics on (Service + ServiceMonitor)',
    values: {
      ...minimalValues(),
      metrics: { serviceMonitor: { enabled: true, labels: { release: 'prom' } } },
    },
    check: (objects) => {
      const svc = one(objects, 'Service', 'snapkeeper-metrics') as Manifest & {
        spec: { selector: Record<string, string>; ports: { name: string }[] };
      };
      const sm = one(objects, 'ServiceMonitor') as Manifest & {
        spec: {
          selector: { matchLabels: Record<string, string> };
          endpoints: { port: string; path: string }[];
        };
      };
      expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
      expect(sm.metadata.labels).toMatchObject({ release: 'prom' });
      expect(sm.spec.endpoints).toMatchObject([{ port: 'http', path: '/metrics' }]);
      // The ServiceMonitor selects the Service, which selects the operator pods.
      expect(svc.metadata.labels).toMatchObject(sm.spec.selector.matchLabels);
      const podLabels = (
        one(objects, 'Deployment') as Manifest & {
          spec: { template: { metadata: { labels: Record<string, string> } } };
        }
      ).spec.template.metadata.labels;
      expect(podLabels).toMatchObject(svc.spec.selector);
      expect(svc.spec.ports[0]!.name).toBe('http');
    },
  },
  {
    name: 'encryption on, retention and dumper resources',
    values: {
      ...minimalValues(),
      encryption: { enabled: true, recipients: RECIPIENTS },
      retention: 'keep-last=7,keep-daily=14,max-age=90d',
      dumper: { resources: 'cpu=500m,memory=1Gi' },
    },
    check: (objects) => {
      expect(operatorEnv(objects)).toMatchObject({
        SNAPKEEPER_DEFAULT_ENCRYPTION: 'true',
        SNAPKEEPER_DEFAULT_RECIPIENTS: RECIPIENTS.join(','),
        SNAPKEEPER_DEFAULT_RETENTION: 'keep-last=7,keep-daily=14,max-age=90d',
        SNAPKEEPER_DEFAULT_RESOURCES: 'cpu=500m,memory=1Gi',
      });
    },
  },
  {
    name: 'a default compression',
    values: { ...minimalValues(), compression: 'zstd:5' },
    check: (objects) => {
      expect(operatorEnv(objects)).toMatchObject({ SNAPKEEPER_DEFAULT_COMPRESSION: 'zstd:5' });
      expect(operatorConfig(objects).defaultCompression).toEqual({ type: 'zstd', level: 5 });
    },
  },
  {
    name: 'backup Job limits',
    values: {
      ...minimalValues(),
      dumper: {
        job: {
          activeDeadlineSeconds: 7200,
          backoffLimit: 0,
          ttlSecondsAfterFinished: 86_400,
          startingDeadlineSeconds: 600,
          historyLimit: 5,
        },
      },
    },
    check: (objects) => {
      expect(operatorEnv(objects)).toMatchObject({
        SNAPKEEPER_JOB_ACTIVE_DEADLINE_SECONDS: '7200',
        SNAPKEEPER_JOB_BACKOFF_LIMIT: '0',
        SNAPKEEPER_JOB_TTL_SECONDS_AFTER_FINISHED: '86400',
        SNAPKEEPER_JOB_STARTING_DEADLINE_SECONDS: '600',
        SNAPKEEPER_JOB_HISTORY_LIMIT: '5',
      });
      expect(operatorConfig(objects).job).toEqual({
        activeDeadlineSeconds: 7200,
        backoffLimit: 0,
        ttlSecondsAfterFinished: 86_400,
        startingDeadlineSeconds: 600,
        successfulJobsHistoryLimit: 5,
        failedJobsHistoryLimit: 5,
      });
    },
  },
  {
    name: 'the scheduled restore test: resources, deadline and identity Secret',
    values: {
      ...minimalValues(),
      restoreTest: {
        resources: 'cpu=1,memory=2Gi,limits.ephemeral-storage=20Gi',
        activeDeadlineSeconds: 7200,
        identitySecret: { name: 'restore-identity', key: 'key.txt' },
      },
    },
    check: (objects) => {
      expect(operatorEnv(objects)).toMatchObject({
        SNAPKEEPER_RESTORE_TEST_RESOURCES: 'cpu=1,memory=2Gi,limits.ephemeral-storage=20Gi',
        SNAPKEEPER_RESTORE_TEST_ACTIVE_DEADLINE_SECONDS: '7200',
        SNAPKEEPER_RESTORE_TEST_IDENTITY_SECRET: 'restore-identity',
        SNAPKEEPER_RESTORE_TEST_IDENTITY_KEY: 'key.txt',
      });
      expect(operatorConfig(objects).restoreTest).toEqual({
        resources: {
          requests: { cpu: '1', memory: '2Gi' },
          limits: { memory: '2Gi', 'ephemeral-storage': '20Gi' },
        },
        activeDeadlineSeconds: 7200,
        identitySecret: { name: 'restore-identity', key: 'key.txt' },
      });
    },
  },
  {
    name: 'the scheduled restore test by default: the chart defaults, no identity',
    values: minimalValues(),
    check: (objects) => {
      expect(operatorEnv(objects)).not.toHaveProperty('SNAPKEEPER_RESTORE_TEST_IDENTITY_SECRET');
      expect(operatorConfig(objects).restoreTest).toEqual({
        resources: {
          requests: { cpu: '500m', memory: '1Gi', 'ephemeral-storage': '4Gi' },
          limits: { memory: '1Gi' },
        },
        activeDeadlineSeconds: 10_800,
      });
    },
  },
];

/** The operator image's ENTRYPOINT (exec form). */
async function operatorEntrypoint(): Promise<string[]> {
  const file = await readFile(join(repoRoot, 'images', 'operator.Dockerfile'), 'utf8');
  const m = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(file);
  if (!m) throw new Error('images/operator.Dockerfile has no exec-form ENTRYPOINT');
  return JSON.parse(m[1]!) as string[];
}

describe('chart: the operator heap limit follows its memory limit', () => {
  it.each([
    ['1Gi', '--max-old-space-size=768'],
    ['2G', '--max-old-space-size=1430'],
    ['805306368', '--max-old-space-size=576'],
  ])(
    'given a %s limit, then node runs with %s, on the image’s entry point',
    async (memory, flag) => {
      const { objects } = await render({
        ...minimalValues(),
        operator: { resources: { limits: { memory } } },
      });
      const [node, ...rest] = await operatorEntrypoint();
      expect(operatorContainer(objects).container.command).toEqual([node, flag, ...rest]);
    },
  );

  it('given no memory limit, then the image’s entry point runs as it is', async () => {
    const { objects } = await render({
      ...minimalValues(),
      operator: { resources: { limits: null } },
    });
    expect(operatorContainer(objects).container).not.toHaveProperty('command');
  });

  it('given a memory limit the chart cannot read, then helm template fails naming it', async () => {
    const r = await helm(['template', 'snapkeeper', chartDir], {
      ...minimalValues(),
      operator: { resources: { limits: { memory: '5Xi' } } },
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('operator.resources.limits.memory: "5Xi" is not a memory quantity');
  });
});

describe('chart: helm lint and helm template over a matrix of values', () => {
  it.each(cases)('$name', async ({ values, check }) => {
    const lint = await helm(['lint', chartDir, '--strict'], values);
    expect(lint.stderr + lint.stdout.toString()).toContain('0 chart(s) failed');
    expect(lint.code).toBe(0);
    const { objects } = await render(values);
    check(objects);
    // Whatever the values, the operator accepts the environment the chart sets.
    expect(() => operatorConfig(objects)).not.toThrow();
  });

  it('sets exactly the operator environment docs/architecture.md documents', async () => {
    const documented = await documentedVariables("The operator's environment");
    expect(documented.rows).toContain('SNAPKEEPER_IMAGE_ELASTICSEARCH');
    expect(documented.rows).toContain('SNAPKEEPER_S3_CREDENTIALS_SECRET');
    const { objects } = await render({
      ...minimalValues(),
      storage: {
        bucket: 'b-1',
        endpoint: 'https://x.r2.cloudflarestorage.com',
        region: 'auto',
        existingSecret: 's',
        keyTemplate: '{namespace}/{workload}/{timestamp}/{database}.{ext}',
      },
      restoreTest: { identitySecret: { name: 'restore-identity', key: 'key.txt' } },
    });
    const set = [
      ...Object.keys(operatorEnv(objects)),
      ...(operatorContainer(objects).container.env as { name: string }[]).map((e) => e.name),
    ];
    // Everything the chart sets is documented; everything documented is set.
    expect(set.filter((n) => !documented.mentioned.includes(n))).toEqual([]);
    expect(documented.rows.filter((n) => !set.includes(n))).toEqual([]);
  });
});

const ok = minimalValues();
const rejections: { name: string; values: Values; messages: RegExp[] }[] = [
  {
    name: 'no bucket',
    values: { watchNamespaces: ['default'] },
    messages: [/at '\/storage\/bucket': minLength: got 0, want 3/],
  },
  {
    name: 'an empty watch list',
    values: { ...ok, watchNamespaces: [] },
    messages: [/at '\/watchNamespaces': minItems: got 0, want 1/],
  },
  {
    name: 'a watched namespace that is not a namespace name',
    values: { ...ok, watchNamespaces: ['Shop_EU'] },
    messages: [/at '\/watchNamespaces\/0': 'Shop_EU' does not match pattern/],
  },
  {
    name: 'encryption on without a recipient',
    values: { ...ok, encryption: { enabled: true } },
    messages: [/at '\/encryption\/recipients': minItems: got 0, want 1/],
  },
  {
    name: 'encryption on with an empty recipient list',
    values: { ...ok, encryption: { enabled: true, recipients: [] } },
    messages: [/at '\/encryption\/recipients': minItems: got 0, want 1/],
  },
  {
    name: 'a malformed recipient',
    values: { ...ok, encryption: { enabled: false, recipients: ['age1notarecipient'] } },
    messages: [
      /at '\/encryption\/recipients\/0': 'age1notarecipient' does not match pattern '\^age1/,
    ],
  },
  {
    name: 'an SSH key where an age recipient belongs',
    values: { ...ok, encryption: { enabled: true, recipients: ['ssh-ed25519 AAAAC3Nza'] } },
    messages: [/at '\/encryption\/recipients\/0': 'ssh-ed25519 AAAAC3Nza' does not match pattern/],
  },
  {
    name: 'an access key without its secret',
    values: { ...ok, storage: { bucket: 'backups', accessKeyId: 'AKID' } },
    messages: [/at '\/storage\/secretAccessKey': minLength: got 0, want 1/],
  },
  {
    name: 'an unknown value (a typo)',
    values: { ...ok, storage: { bucket: 'backups', bucketName: 'x' } },
    messages: [/at '\/storage': additional properties 'bucketName' not allowed/],
  },
  {
    name: 'a malformed default retention',
    values: { ...ok, retention: 'keep-forever' },
    messages: [/at '\/retention': 'keep-forever' does not match pattern/],
  },
  {
    name: 'a malformed default compression',
    values: { ...ok, compression: 'zstd:20' },
    messages: [/at '\/compression': 'zstd:20' does not match pattern/],
  },
  {
    name: 'backup Job limits the operator would refuse',
    values: {
      ...ok,
      dumper: {
        job: {
          activeDeadlineSeconds: 30,
          backoffLimit: -1,
          ttlSecondsAfterFinished: 60,
          startingDeadlineSeconds: 0,
          historyLimit: 0,
        },
      },
    },
    messages: [
      /at '\/dumper\/job\/activeDeadlineSeconds': minimum: got 30, want 60/,
      /at '\/dumper\/job\/backoffLimit': minimum: got -1, want 0/,
      /at '\/dumper\/job\/ttlSecondsAfterFinished': minimum: got 60, want 300/,
      /at '\/dumper\/job\/startingDeadlineSeconds': minimum: got 0, want 10/,
      /at '\/dumper\/job\/historyLimit': minimum: got 0, want 1/,
    ],
  },
  {
    name: 'a backup Job limit that is not a whole number',
    values: { ...ok, dumper: { job: { backoffLimit: 1.5, historyLimit: 200 } } },
    messages: [
      /at '\/dumper\/job\/backoffLimit': got number, want integer/,
      /at '\/dumper\/job\/historyLimit': maximum: got 200, want 100/,
    ],
  },
  {
    name: 'restore-test values the operator would refuse',
    values: {
      ...ok,
      restoreTest: {
        resources: 'disk=4Gi',
        activeDeadlineSeconds: 30,
        identitySecret: { name: 'Not_A_Secret', key: 'a/b' },
      },
    },
    messages: [
      /at '\/restoreTest\/resources': 'disk=4Gi' does not match pattern/,
      /at '\/restoreTest\/activeDeadlineSeconds': minimum: got 30, want 60/,
      /at '\/restoreTest\/identitySecret\/name': 'Not_A_Secret' does not match pattern/,
      /at '\/restoreTest\/identitySecret\/key': 'a\/b' does not match pattern/,
    ],
  },
  {
    name: 'a ServiceMonitor without the metrics Service',
    values: { ...ok, metrics: { service: { enabled: false }, serviceMonitor: { enabled: true } } },
    messages: [/at '\/metrics\/service\/enabled': value must be true/],
  },
];

describe('chart: values.schema.json rejects at install time', () => {
  it.each(rejections)('$name', async ({ values, messages }) => {
    for (const command of [['template', 'snapkeeper'], ['lint']]) {
      const r = await helm([...command, chartDir], values);
      expect(r.code).not.toBe(0);
      const out = r.stderr + r.stdout.toString();
      expect(out).toContain("values don't meet the specifications of the schema");
      for (const m of messages) expect(out).toMatch(m);
    }
  });
});
