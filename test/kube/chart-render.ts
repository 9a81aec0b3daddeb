// Renders charts/snapkeeper with the real helm binary, for the chart suites.
// Values go through a values file (never --set strings, whose escaping is its
// own language), and the output is parsed into plain objects.
import { loadAllYaml } from '@kubernetes/client-node';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec, type RunResult } from '../env/helpers.js';
import { binaries, repoRoot } from '../env/paths.js';

export const chartDir = join(repoRoot, 'charts', 'snapkeeper');

/** A rendered Kubernetes object, as plain JSON. */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
}

/** Two real age recipients (age-keygen output), for encryption values. */
export const RECIPIENTS = [
  'age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p',
  'age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg',
];

/** The smallest values that install: a bucket and one watched namespace. */
export function minimalValues(watch: string[] = ['default']): Record<string, unknown> {
  return { storage: { bucket: 'snapkeeper-test' }, watchNamespaces: watch };
}

async function withValuesFile<T>(values: unknown, fn: (file: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'snapkeeper-chart-'));
  try {
    const file = join(dir, 'values.json');
    // JSON is YAML: helm reads it as a values file.
    await writeFile(file, JSON.stringify(values), { mode: 0o600 });
    return await fn(file);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `helm <command> <chart> -f values`, whatever its exit code. */
export function helm(args: string[], values: unknown): Promise<RunResult> {
  return withValuesFile(values, (file) =>
    exec(binaries.helm(), [...args, '-f', file], {
      env: { HELM_CACHE_HOME: join(tmpdir(), 'snapkeeper-helm-cache') },
    }),
  );
}

export interface Rendered {
  yaml: string;
  objects: Manifest[];
}

/** `helm template`; a failure throws with helm's message. */
export async function render(
  values: unknown,
  opts: { release?: string; namespace?: string } = {},
): Promise<Rendered> {
  const r = await helm(
    [
      'template',
      opts.release ?? 'snapkeeper',
      chartDir,
      '--namespace',
      opts.namespace ?? 'snapkeeper',
    ],
    values,
  );
  if (r.code !== 0) throw new Error(`helm template failed: ${r.stderr.trim()}`);
  const yaml = r.stdout.toString();
  return { yaml, objects: parseManifests(yaml) };
}

/** The objects of a multi-document YAML stream, as plain JSON. */
export function parseManifests(yaml: string): Manifest[] {
  const docs = yaml.split(/^---\s*$/m).filter((d) => /^\s*kind:/m.test(d));
  // loadAllYaml returns client-node's typed models; a JSON round trip makes
  // them the plain objects the API server takes.
  return docs.flatMap((d) => loadAllYaml(d).map((o) => JSON.parse(JSON.stringify(o)) as Manifest));
}

export function find(
  objects: Manifest[],
  kind: string,
  name?: string,
  namespace?: string,
): Manifest[] {
  return objects.filter(
    (o) =>
      o.kind === kind &&
      (name === undefined || o.metadata.name === name) &&
      (namespace === undefined || o.metadata.namespace === namespace),
  );
}

/** Exactly one object of that kind (and name); throws otherwise. */
export function one(
  objects: Manifest[],
  kind: string,
  name?: string,
  namespace?: string,
): Manifest {
  const found = find(objects, kind, name, namespace);
  if (found.length !== 1) {
    throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, rendered ${found.length}`);
  }
  return found[0]!;
}
