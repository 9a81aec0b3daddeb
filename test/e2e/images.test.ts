// The product's images, run by the real node the way the chart and the
// operator run them: as the image's own user (runAsNonRoot can only verify a
// numeric USER), with a read-only root filesystem and every capability
// dropped. Each image's entrypoint is snapkeeper; each dumper carries its tool.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { core, createNamespace, eventually, kubeName, kubectl } from './support.js';

const { images } = inject('node');
const ns = kubeName('images');

beforeAll(async () => {
  await createNamespace(ns);
});

/** Runs a pod to its end under the chart's container security context; its phase and log. */
async function runPod(
  image: string,
  opts: { command?: string[]; args?: string[] },
): Promise<{ phase: string; log: string; pod: V1Pod }> {
  const name = kubeName('img');
  await core().createNamespacedPod({
    namespace: ns,
    body: {
      metadata: { name },
      spec: {
        restartPolicy: 'Never',
        automountServiceAccountToken: false,
        securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
        containers: [
          {
            name: 'main',
            image,
            imagePullPolicy: 'IfNotPresent',
            ...(opts.command ? { command: opts.command } : {}),
            ...(opts.args ? { args: opts.args } : {}),
            securityContext: {
              readOnlyRootFilesystem: true,
              allowPrivilegeEscalation: false,
              capabilities: { drop: ['ALL'] },
            },
            volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          },
        ],
        volumes: [{ name: 'tmp', emptyDir: {} }],
      },
    },
  });
  const pod = await eventually(
    `pod ${name} (${image}) to finish`,
    async () => {
      const p = await core().readNamespacedPod({ name, namespace: ns });
      const phase = p.status?.phase;
      if (phase === 'Succeeded' || phase === 'Failed') return p;
      // a pod that cannot start (bad user, missing image) never finishes
      const waiting = p.status?.containerStatuses?.[0]?.state?.waiting;
      if (waiting?.reason && /Err|Invalid|BackOff/.test(waiting.reason)) {
        throw new Error(`${image}: ${waiting.reason}: ${waiting.message ?? ''}`);
      }
      return undefined;
    },
    120_000,
  );
  const log = await kubectl(['logs', '-n', ns, name]);
  return { phase: pod.status!.phase!, log, pod };
}

const probe = (tool: string) => [
  'sh',
  '-c',
  `echo "uid=$(id -u) gid=$(id -g)"; if touch /probe 2>/dev/null; then echo root-writable; else echo root-read-only; fi; touch /tmp/probe && echo tmp-writable; ${tool}`,
];

const dumpers = [
  // the dumpers of SQL engines also carry the server restore-test starts
  {
    image: 'dumper-postgresql',
    tool: 'pg_dump --version && initdb --version && postgres --version',
    expect:
      /pg_dump \(PostgreSQL\) (\d+).*\ninitdb \(PostgreSQL\) \1.*\npostgres \(PostgreSQL\) \1/,
  },
  {
    image: 'dumper-mariadb',
    tool: 'mariadb-dump --version && mariadbd --version && command -v mariadb-install-db',
    expect: /mariadb-dump.*Ver.*\nmariadbd.*Ver.*\n.*\/mariadb-install-db$/m,
  },
  { image: 'dumper-elasticsearch', tool: 'elasticdump --version', expect: /\d+\.\d+\.\d+/ },
  { image: 'operator', tool: 'node --version', expect: /^v\d+\.\d+/m },
];

describe.each(dumpers)('$image image', ({ image, tool, expect: version }) => {
  const ref = `${images.repository}/${image}:${images.tag}`;

  it('runs as uid 65532 with a read-only root filesystem, and has its tool', async () => {
    const r = await runPod(ref, { command: probe(tool) });
    expect(r.phase, r.log).toBe('Succeeded');
    // The group is the pod's runAsGroup: with none, the kubelet passes the
    // image's uid alone and the runtime gives gid 0 (seen with containerd
    // 1.6), whatever USER 65532:65532 says. The chart and the operator set it.
    expect(r.log).toContain('uid=65532 ');
    expect(r.log).toContain('root-read-only');
    expect(r.log).toContain('tmp-writable');
    expect(r.log).toMatch(version);
  });

  it('has snapkeeper as its entrypoint', async () => {
    const r = await runPod(ref, { args: ['--version'] });
    expect(r.phase, r.log).toBe('Succeeded');
    expect(r.log.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
