/**
 * The credentials a database runs with, read the way the kubelet builds the
 * database container's environment: `envFrom` sources in order (with
 * `prefix`), then `env` entries in order, later ones overriding earlier ones;
 * `valueFrom.secretKeyRef` / `configMapKeyRef` (honouring `optional`);
 * `$(VAR)` references in literal values expanded from the variables defined
 * before them, `$$` escaping a `$`, unknown references left as written.
 *
 * Values stay in memory and go only into the mirrored Secret; every message
 * here names variables, Secrets and keys, never a value.
 */
import type { V1ConfigMap, V1Container, V1Pod, V1Secret } from '@kubernetes/client-node';
import type { EngineType } from '../manifest.js';
import { identityFor, wellKnownNames, type Credentials, type EnvEntry } from './engines.js';

export interface RefLookup {
  secret(ns: string, name: string): Promise<V1Secret | undefined>;
  configMap(ns: string, name: string): Promise<V1ConfigMap | undefined>;
}

export type CredentialsResult =
  | {
      ok: true;
      credentials: Credentials;
      /** Objects read, for watching: "Secret/<name>" or "ConfigMap/<name>" in the pod's namespace. */
      secretRefs: string[];
    }
  | { ok: false; message: string };

/** A variable of the container: its value, or why it has none. */
export async function resolveCredentials(
  pod: V1Pod,
  type: EngineType,
  lookup: RefLookup,
): Promise<CredentialsResult> {
  const namespace = pod.metadata?.namespace ?? 'default';
  const containers = pod.spec?.containers ?? [];
  if (containers.length === 0) return { ok: false, message: 'the pod has no container' };

  const reader = new EnvReader(namespace, lookup);
  const wanted = new Set(wellKnownNames(type));
  let chosen: { container: V1Container; env: Map<string, EnvEntry> } | undefined;
  for (const container of containers) {
    const env = await reader.containerEnv(container);
    if ([...env.keys()].some((n) => wanted.has(n))) {
      chosen = { container, env };
      break;
    }
  }
  chosen ??= { container: containers[0]!, env: await reader.containerEnv(containers[0]!) };

  const identity = identityFor(type, chosen.env);
  const where = `container ${chosen.container.name}`;
  if (!identity.ok) return { ok: false, message: `${where}: ${identity.message}` };
  return { ok: true, credentials: identity.credentials, secretRefs: [...reader.refs].sort() };
}

/** Builds containers' environments, reading each referenced object once. */
export class EnvReader {
  readonly refs = new Set<string>();
  private readonly secrets = new Map<string, Promise<V1Secret | undefined>>();
  private readonly configMaps = new Map<string, Promise<V1ConfigMap | undefined>>();

  constructor(
    private readonly namespace: string,
    private readonly lookup: RefLookup,
  ) {}

  async containerEnv(container: V1Container): Promise<Map<string, EnvEntry>> {
    const env = new Map<string, EnvEntry>();
    for (const source of container.envFrom ?? []) {
      const prefix = source.prefix ?? '';
      if (source.secretRef?.name) {
        const name = source.secretRef.name;
        // A missing Secret leaves its variables unknown: a variable needed
        // later is then reported as missing, by name.
        const secret = await this.secret(name);
        for (const [key, value] of Object.entries(secret ? secretData(secret) : {}))
          env.set(prefix + key, { value });
      } else if (source.configMapRef?.name) {
        const cm = await this.configMap(source.configMapRef.name);
        for (const [key, value] of Object.entries(cm?.data ?? {})) env.set(prefix + key, { value });
      }
    }
    for (const entry of container.env ?? []) {
      if (entry.value !== undefined || !entry.valueFrom) {
        env.set(entry.name, { value: expand(entry.value ?? '', env) });
        continue;
      }
      const from = entry.valueFrom;
      if (from.secretKeyRef?.name) {
        const { name, key, optional } = from.secretKeyRef;
        const secret = await this.secret(name);
        const value = secret ? secretData(secret)[key] : undefined;
        if (value !== undefined) env.set(entry.name, { value });
        else if (optional === true) env.delete(entry.name);
        else
          env.set(entry.name, {
            problem: secret
              ? `key ${key} is not in Secret ${this.namespace}/${name}`
              : `Secret ${this.namespace}/${name} is not readable or does not exist`,
          });
      } else if (from.configMapKeyRef?.name) {
        const { name, key, optional } = from.configMapKeyRef;
        const cm = await this.configMap(name);
        const value = cm?.data?.[key];
        if (value !== undefined) env.set(entry.name, { value });
        else if (optional === true) env.delete(entry.name);
        else
          env.set(entry.name, {
            problem: cm
              ? `key ${key} is not in ConfigMap ${this.namespace}/${name}`
              : `ConfigMap ${this.namespace}/${name} is not readable or does not exist`,
          });
      } else {
        env.set(entry.name, {
          problem: 'comes from a field or resource reference, which snapkeeper does not read',
        });
      }
    }
    return env;
  }

  private secret(name: string): Promise<V1Secret | undefined> {
    this.refs.add(`Secret/${name}`);
    let p = this.secrets.get(name);
    if (!p) {
      p = this.lookup.secret(this.namespace, name);
      this.secrets.set(name, p);
    }
    return p;
  }

  private configMap(name: string): Promise<V1ConfigMap | undefined> {
    this.refs.add(`ConfigMap/${name}`);
    let p = this.configMaps.get(name);
    if (!p) {
      p = this.lookup.configMap(this.namespace, name);
      this.configMaps.set(name, p);
    }
    return p;
  }
}

function secretData(secret: V1Secret): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, b64] of Object.entries(secret.data ?? {}))
    out[key] = Buffer.from(b64, 'base64').toString('utf8');
  // stringData only appears on objects not yet written; honour it for hand-built objects.
  for (const [key, value] of Object.entries(secret.stringData ?? {})) out[key] = value;
  return out;
}

/** Kubernetes $(VAR) expansion: defined variables replaced, $$ → $, anything else kept. */
export function expand(value: string, env: Map<string, EnvEntry>): string {
  return value.replace(
    /\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g,
    (match, name: string | undefined) => {
      if (match === '$$') return '$';
      const entry = name === undefined ? undefined : env.get(name);
      return entry && 'value' in entry ? entry.value : match;
    },
  );
}
