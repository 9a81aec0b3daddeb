import type { V1ConfigMap, V1Container, V1EnvVar, V1Pod, V1Secret } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { resolveCredentials, type RefLookup } from '../../src/discovery/credentials.js';
import type { EngineType } from '../../src/manifest.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = (name: string, data: Record<string, string>): V1Secret => ({
  metadata: { namespace: 'shop', name },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, b64(v)])),
});
const configMap = (name: string, data: Record<string, string>): V1ConfigMap => ({
  metadata: { namespace: 'shop', name },
  data,
});
const lit = (name: string, value: string): V1EnvVar => ({ name, value });
const fromSecret = (
  name: string,
  secretName: string,
  key: string,
  optional?: boolean,
): V1EnvVar => ({
  name,
  valueFrom: {
    secretKeyRef: { name: secretName, key, ...(optional === undefined ? {} : { optional }) },
  },
});
const podWith = (...containers: V1Container[]): V1Pod => ({
  metadata: { namespace: 'shop', name: 'db-0' },
  spec: { containers },
});
const c = (env: V1EnvVar[], envFrom: V1Container['envFrom'] = [], name = 'db'): V1Container => ({
  name,
  image: 'x',
  env,
  envFrom,
});

function lookup(
  secrets: V1Secret[] = [],
  configMaps: V1ConfigMap[] = [],
): RefLookup & { reads: string[] } {
  const reads: string[] = [];
  return {
    reads,
    secret: async (ns, name) => {
      reads.push(`Secret ${ns}/${name}`);
      return secrets.find((s) => s.metadata?.name === name);
    },
    configMap: async (ns, name) => {
      reads.push(`ConfigMap ${ns}/${name}`);
      return configMaps.find((m) => m.metadata?.name === name);
    },
  };
}

const pgSecret = secret('pg', { password: 'S3cr3t!pg', user: 'app', root: 'R00t!' });

describe('resolveCredentials: where values come from', () => {
  it.each([
    [
      'literals with defaults (official image)',
      'postgresql',
      podWith(c([lit('POSTGRES_PASSWORD', 'pw')])),
      lookup(),
      { username: 'postgres', password: 'pw', database: 'postgres' },
    ],
    [
      'POSTGRES_DB defaulting to the user',
      'postgresql',
      podWith(c([lit('POSTGRES_USER', 'app'), fromSecret('POSTGRES_PASSWORD', 'pg', 'password')])),
      lookup([pgSecret]),
      { username: 'app', password: 'S3cr3t!pg', database: 'app' },
    ],
    [
      'envFrom with a prefix',
      'postgresql',
      podWith(c([], [{ prefix: 'POSTGRES_', secretRef: { name: 'raw' } }])),
      lookup([secret('raw', { PASSWORD: 'p1', DB: 'shop' })]),
      { username: 'postgres', password: 'p1', database: 'shop' },
    ],
    [
      'env overriding envFrom',
      'postgresql',
      podWith(c([lit('POSTGRES_PASSWORD', 'env-wins')], [{ secretRef: { name: 'raw' } }])),
      lookup([secret('raw', { POSTGRES_PASSWORD: 'from-envfrom' })]),
      { username: 'postgres', password: 'env-wins', database: 'postgres' },
    ],
    [
      'a later env entry overriding an earlier one',
      'postgresql',
      podWith(c([lit('POSTGRES_PASSWORD', 'first'), lit('POSTGRES_PASSWORD', 'second')])),
      lookup(),
      { username: 'postgres', password: 'second', database: 'postgres' },
    ],
    [
      'a configMapKeyRef and an envFrom ConfigMap',
      'postgresql',
      podWith(
        c(
          [
            { name: 'POSTGRES_USER', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'user' } } },
            lit('POSTGRES_PASSWORD', 'p'),
          ],
          [{ configMapRef: { name: 'cfg' } }],
        ),
      ),
      lookup([], [configMap('cfg', { user: 'shopper', POSTGRES_DB: 'orders' })]),
      { username: 'shopper', password: 'p', database: 'orders' },
    ],
    [
      '$(VAR) references, $$ escapes and unknown references',
      'postgresql',
      podWith(
        c([
          lit('BASE', 'app'),
          lit('POSTGRES_USER', '$(BASE)_rw'),
          lit('POSTGRES_DB', '$(NOPE)'),
          lit('POSTGRES_PASSWORD', '$$(BASE)'),
        ]),
      ),
      lookup(),
      { username: 'app_rw', password: '$(BASE)', database: '$(NOPE)' },
    ],
    [
      'an optional secretKeyRef to a missing Secret, with a literal before it',
      'postgresql',
      podWith(
        c([
          lit('POSTGRES_USER', 'u'),
          fromSecret('POSTGRES_USER', 'gone', 'user', true),
          lit('POSTGRES_PASSWORD', 'p'),
        ]),
      ),
      lookup(),
      { username: 'postgres', password: 'p', database: 'postgres' },
    ],
  ] as const)(
    'given %s, when resolved, then the credentials are read',
    async (_n, type, pod, l, expected) => {
      const r = await resolveCredentials(pod, type as EngineType, l);
      expect(r).toMatchObject({ ok: true, credentials: expected });
    },
  );

  it('given Secrets and ConfigMaps referenced, when resolved, then they are listed for watching', async () => {
    const pod = podWith(
      c([fromSecret('POSTGRES_PASSWORD', 'pg', 'password')], [{ configMapRef: { name: 'cfg' } }]),
    );
    const r = await resolveCredentials(
      pod,
      'postgresql',
      lookup([pgSecret], [configMap('cfg', {})]),
    );
    expect(r).toMatchObject({ ok: true, secretRefs: ['ConfigMap/cfg', 'Secret/pg'] });
  });

  it('given a sidecar first and the database second, when resolved, then the database container is used', async () => {
    const pod = podWith(
      c([lit('PASSWORD', 'sidecar')], [], 'exporter'),
      c([lit('MYSQL_ROOT_PASSWORD', 'rootpw')], [], 'mysql'),
    );
    expect(await resolveCredentials(pod, 'mysql', lookup())).toMatchObject({
      ok: true,
      credentials: { username: 'root', password: 'rootpw' },
    });
  });
});

describe('resolveCredentials: which identity', () => {
  it.each([
    [
      'Bitnami PostgreSQL superuser preferred',
      'postgresql',
      [
        lit('POSTGRESQL_USERNAME', 'app'),
        lit('POSTGRESQL_PASSWORD', 'a'),
        lit('POSTGRESQL_POSTGRES_PASSWORD', 's'),
        lit('POSTGRESQL_DATABASE', 'shop'),
      ],
      { username: 'postgres', password: 's', database: 'shop' },
    ],
    [
      'Bitnami PostgreSQL app user',
      'postgresql',
      [
        lit('POSTGRESQL_USERNAME', 'app'),
        lit('POSTGRESQL_PASSWORD', 'a'),
        lit('POSTGRESQL_DATABASE', 'shop'),
      ],
      { username: 'app', password: 'a', database: 'shop' },
    ],
    [
      'PostgreSQL trust',
      'postgresql',
      [lit('POSTGRES_HOST_AUTH_METHOD', 'trust')],
      { username: 'postgres', database: 'postgres' },
    ],
    [
      'MySQL root preferred over the app user',
      'mysql',
      [
        lit('MYSQL_USER', 'app'),
        lit('MYSQL_PASSWORD', 'a'),
        lit('MYSQL_ROOT_PASSWORD', 'r'),
        lit('MYSQL_DATABASE', 'shop'),
      ],
      { username: 'root', password: 'r', database: 'shop' },
    ],
    [
      'MySQL with a random root password',
      'mysql',
      [
        lit('MYSQL_RANDOM_ROOT_PASSWORD', 'yes'),
        lit('MYSQL_ROOT_PASSWORD', 'ignored'),
        lit('MYSQL_USER', 'app'),
        lit('MYSQL_PASSWORD', 'a'),
      ],
      { username: 'app', password: 'a' },
    ],
    [
      'MySQL with an empty root password allowed',
      'mysql',
      [lit('MYSQL_ALLOW_EMPTY_PASSWORD', 'yes')],
      { username: 'root' },
    ],
    [
      'MariaDB names',
      'mariadb',
      [lit('MARIADB_ROOT_PASSWORD', 'r'), lit('MARIADB_DATABASE', 'shop')],
      { username: 'root', password: 'r', database: 'shop' },
    ],
    [
      'MariaDB with MYSQL_ names',
      'mariadb',
      [lit('MYSQL_USER', 'app'), lit('MYSQL_PASSWORD', 'a')],
      { username: 'app', password: 'a' },
    ],
    [
      'Bitnami MariaDB root user',
      'mariadb',
      [lit('MARIADB_ROOT_USER', 'admin'), lit('MARIADB_ROOT_PASSWORD', 'r')],
      { username: 'admin', password: 'r' },
    ],
    [
      'Elasticsearch',
      'elasticsearch',
      [lit('ELASTIC_PASSWORD', 'e')],
      { username: 'elastic', password: 'e' },
    ],
    [
      'OpenSearch',
      'elasticsearch',
      [lit('OPENSEARCH_INITIAL_ADMIN_PASSWORD', 'o')],
      { username: 'admin', password: 'o' },
    ],
    ['Elasticsearch without security', 'elasticsearch', [lit('discovery.type', 'single-node')], {}],
  ] as const)(
    'given %s, when resolved, then that identity is used',
    async (_n, type, env, expected) => {
      const r = await resolveCredentials(podWith(c([...env])), type, lookup());
      expect(r.ok).toBe(true);
      if (r.ok) expect(r.credentials).toEqual(expected);
    },
  );
});

describe('resolveCredentials: failures name what is missing, never a value', () => {
  it.each([
    ['no PostgreSQL password', 'postgresql', [lit('POSTGRES_USER', 'app')], /POSTGRES_PASSWORD/],
    [
      'a password file',
      'postgresql',
      [lit('POSTGRES_PASSWORD_FILE', '/run/secrets/pw')],
      /POSTGRES_PASSWORD_FILE is not supported/,
    ],
    [
      'no MySQL credentials',
      'mysql',
      [lit('MYSQL_USER', 'app')],
      /MYSQL_ROOT_PASSWORD, or MYSQL_USER and MYSQL_PASSWORD/,
    ],
    [
      'a missing Secret',
      'postgresql',
      [fromSecret('POSTGRES_PASSWORD', 'gone', 'password')],
      /POSTGRES_PASSWORD: Secret shop\/gone is not readable/,
    ],
    [
      'a missing key',
      'postgresql',
      [fromSecret('POSTGRES_PASSWORD', 'pg', 'nope')],
      /POSTGRES_PASSWORD: key nope is not in Secret shop\/pg/,
    ],
    [
      'an unreadable Elasticsearch password',
      'elasticsearch',
      [fromSecret('ELASTIC_PASSWORD', 'gone', 'pw')],
      /ELASTIC_PASSWORD: Secret shop\/gone/,
    ],
  ] as const)(
    'given %s, when resolved, then the message says so',
    async (_n, type, env, message) => {
      const r = await resolveCredentials(
        podWith(c([...env, lit('UNRELATED', 'S3cr3t!pg')])),
        type,
        lookup([pgSecret]),
      );
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.message).toMatch(message);
        expect(r.message).toContain('container db');
        for (const value of ['S3cr3t!pg', 'R00t!', '/run/secrets/pw'])
          expect(r.message).not.toContain(value);
      }
    },
  );

  it('given a pod without containers, when resolved, then it fails', async () => {
    expect(
      (await resolveCredentials({ metadata: {}, spec: { containers: [] } }, 'mysql', lookup())).ok,
    ).toBe(false);
  });
});
