// What the e2e tests share: kubectl and helm against the real node, waits
// with a reason, the fixture data, and the chart's values for the built images.
import { CoreV1Api, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inject } from 'vitest';
import { exec, kubeConfig, kubeEnv, run, scratchDir, type KubeInfo } from '../env/helpers.js';

/** A unique, valid Kubernetes name (a DNS label). */
export function kubeName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function kc(): KubeConfig {
  return kubeConfig(inject('kube'));
}

export function core(): CoreV1Api {
  return kc().makeApiClient(CoreV1Api);
}

/** kubectl as admin; throws with stderr on a non-zero exit. */
export function kubectl(args: string[], input?: string): Promise<string> {
  const kube: KubeInfo = inject('kube');
  return run(join(kube.binDir, 'kubectl'), args, { env: kubeEnv(kube), input });
}

/** kubectl apply of objects given as JavaScript values. */
export async function apply(...objects: object[]): Promise<void> {
  await kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }),
  );
}

export function helm(args: string[], timeoutMs = 300_000) {
  const kube: KubeInfo = inject('kube');
  return exec(join(kube.binDir, 'helm'), args, { env: kubeEnv(kube), timeoutMs });
}

/**
 * Polls fn until it returns something other than undefined/false; fails
 * after timeoutMs naming what it waited for and the last error or value.
 */
export async function eventually<T>(
  what: string,
  fn: () => Promise<T | undefined | false>,
  timeoutMs = 120_000,
  everyMs = 1000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const why = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what} (last: ${why})`);
    }
    await sleep(everyMs);
  }
}

export async function createNamespace(name: string): Promise<void> {
  await core().createNamespace({ body: { metadata: { name } } });
}

/** The pod, once Running and Ready. */
export function readyPod(namespace: string, name: string, timeoutMs = 180_000): Promise<V1Pod> {
  return eventually(
    `pod ${namespace}/${name} Ready`,
    async () => {
      const pod = await core().readNamespacedPod({ name, namespace });
      const ready = pod.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
      return ready && pod.status?.podIP ? pod : undefined;
    },
    timeoutMs,
  );
}

/** Pods matching a label selector, Ready ones only. */
export async function readyPods(namespace: string, labelSelector: string): Promise<V1Pod[]> {
  const list = await core().listNamespacedPod({ namespace, labelSelector });
  return list.items.filter(
    (p) =>
      !p.metadata?.deletionTimestamp &&
      p.status?.conditions?.find((c) => c.type === 'Ready')?.status === 'True',
  );
}

/** A values file (0600: it holds the S3 keys, which must not be on helm's argv). */
export async function valuesFile(values: object): Promise<string> {
  const file = join(await scratchDir('helm'), 'values.json');
  await writeFile(file, JSON.stringify(values), { mode: 0o600 });
  await chmod(file, 0o600);
  return file;
}

/** The chart's values for the images test/env/images.sh built and the test S3 server. */
export function chartValues(opts: {
  watchNamespaces: string[];
  prefix: string;
  recipients?: string[];
  extra?: Record<string, unknown>;
}): Record<string, unknown> {
  const { images } = inject('node');
  const s3 = inject('s3');
  const image = (name: string) => ({ repository: `${images.repository}/${name}`, tag: images.tag });
  return {
    watchNamespaces: opts.watchNamespaces,
    operator: {
      image: { ...image('operator'), pullPolicy: 'IfNotPresent' },
      replicas: 2,
      leaderElection: { enabled: true },
      resyncSeconds: 60,
    },
    dumper: {
      images: {
        postgresql: image('dumper-postgresql'),
        mariadb: image('dumper-mariadb'),
        // not buildable here (docs/testing.md): never run by the suite
        mysql: image('dumper-mysql'),
        elasticsearch: image('dumper-elasticsearch'),
      },
      pullPolicy: 'IfNotPresent',
      job: { activeDeadlineSeconds: 60, backoffLimit: 0 },
    },
    storage: {
      bucket: s3.bucket,
      prefix: opts.prefix,
      endpoint: s3.endpoint,
      region: s3.region,
      forcePathStyle: true,
      accessKeyId: s3.accessKeyId,
      secretAccessKey: s3.secretAccessKey,
    },
    encryption: opts.recipients
      ? { enabled: true, recipients: opts.recipients }
      : { enabled: false, recipients: [] },
    ...opts.extra,
  };
}

// The hard cases of the integration suites' round trips.
export { MY_CONTENT, PG_CONTENT } from '../env/hard-content.js';
