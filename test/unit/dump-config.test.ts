import { generateIdentity, identityToRecipient } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { loadDumpConfig } from '../../src/dump/config.js';
import { ConfigError } from '../../src/errors.js';

const valid = {
  SNAPKEEPER_TYPE: 'postgresql',
  SNAPKEEPER_HOST: 'postgres.shop.svc',
  SNAPKEEPER_USERNAME: 'app',
  SNAPKEEPER_PASSWORD: 'secret',
  SNAPKEEPER_DATABASES: 'app, reports',
  SNAPKEEPER_STORAGE: 's3://backups/prod',
  SNAPKEEPER_WORKLOAD_NAMESPACE: 'shop',
  SNAPKEEPER_WORKLOAD_KIND: 'StatefulSet',
  SNAPKEEPER_WORKLOAD_NAME: 'postgres',
};

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadDumpConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return [...(err as ConfigError).problems];
  }
  throw new Error('no ConfigError');
}

describe('dump environment', () => {
  it("given the operator's variables, then the target and defaults come out", async () => {
    const r = await identityToRecipient(await generateIdentity());
    const c = loadDumpConfig({
      ...valid,
      SNAPKEEPER_DUMP_OPTIONS: '["--no-owner","--exclude-table=a b"]',
      SNAPKEEPER_RECIPIENTS: `${r}, ${r}`,
      SNAPKEEPER_RETENTION: 'keep-last=7',
      SNAPKEEPER_CLIENT_VERSION: '16',
    });
    expect(c.engine).toBe('postgresql');
    expect(c.target).toEqual({
      host: 'postgres.shop.svc',
      port: 5432,
      username: 'app',
      password: 'secret',
      databases: ['app', 'reports'],
      extraArgs: ['--no-owner', '--exclude-table=a b'],
      clientVersion: '16',
    });
    expect(c.recipients).toEqual([r]);
    expect(c.keyTemplate).toBe('{namespace}/{workload}/{timestamp}/{database}.{ext}');
    expect(c.terminationMessagePath).toBe('/dev/termination-log');
    expect(c.workload).toEqual({ namespace: 'shop', kind: 'StatefulSet', name: 'postgres' });
  });

  it('given empty optional variables, then they count as unset', () => {
    const c = loadDumpConfig({
      ...valid,
      SNAPKEEPER_PORT: '',
      SNAPKEEPER_RECIPIENTS: '',
      SNAPKEEPER_RETENTION: ' ',
    });
    expect(c.target.port).toBe(5432);
    expect(c.recipients).toEqual([]);
    expect(c.retention).toBe('');
  });

  it('given SNAPKEEPER_COMPRESSION, then it is read; unset, gzip:6; a bad one is named with what is accepted', () => {
    expect(loadDumpConfig(valid).compression).toEqual({ type: 'gzip', level: 6 });
    expect(loadDumpConfig({ ...valid, SNAPKEEPER_COMPRESSION: '' }).compression).toEqual({
      type: 'gzip',
      level: 6,
    });
    expect(loadDumpConfig({ ...valid, SNAPKEEPER_COMPRESSION: 'zstd:7' }).compression).toEqual({
      type: 'zstd',
      level: 7,
    });
    expect(problems({ ...valid, SNAPKEEPER_COMPRESSION: 'xz' })).toEqual([
      'SNAPKEEPER_COMPRESSION: not a compression; accepted: gzip, gzip:<1-9>, zstd or zstd:<1-19>',
    ]);
  });

  it('given mysql and *, then the default port is 3306 and all databases are dumped', () => {
    const c = loadDumpConfig({ ...valid, SNAPKEEPER_TYPE: 'mysql', SNAPKEEPER_DATABASES: '*' });
    expect(c.target.port).toBe(3306);
    expect(c.target.databases).toBe('*');
  });

  it('given nothing, then every required variable is named, one problem each', () => {
    expect(problems({})).toEqual([
      expect.stringMatching(/^SNAPKEEPER_TYPE: /),
      'SNAPKEEPER_HOST: required',
      'SNAPKEEPER_STORAGE: required',
      'SNAPKEEPER_WORKLOAD_NAMESPACE: required',
      'SNAPKEEPER_WORKLOAD_NAME: required',
    ]);
  });

  it('given several bad values, then each is one line naming the variable', () => {
    const p = problems({
      ...valid,
      SNAPKEEPER_TYPE: 'oracle',
      SNAPKEEPER_PORT: '70000',
      SNAPKEEPER_DUMP_OPTIONS: '--no-owner',
      SNAPKEEPER_RECIPIENTS: 'age1nope',
      SNAPKEEPER_RETENTION: 'keep-forever=1',
      SNAPKEEPER_KEY_TEMPLATE: '{namespace}/{database}.{ext}',
      SNAPKEEPER_S3_FORCE_PATH_STYLE: 'yes',
      SNAPKEEPER_CLIENT_VERSION: 'latest',
    });
    const names = p.map((l) => l.split(':')[0]);
    expect(names).toEqual(
      expect.arrayContaining([
        'SNAPKEEPER_TYPE',
        'SNAPKEEPER_PORT',
        'SNAPKEEPER_DUMP_OPTIONS',
        'SNAPKEEPER_RECIPIENTS',
        'SNAPKEEPER_RETENTION',
        'SNAPKEEPER_KEY_TEMPLATE',
        'SNAPKEEPER_S3_FORCE_PATH_STYLE',
        'SNAPKEEPER_CLIENT_VERSION',
      ]),
    );
    expect(p.find((l) => l.startsWith('SNAPKEEPER_RECIPIENTS'))).toContain('age1nope');
    expect(p.join('\n')).not.toContain('secret');
  });

  it('given no databases for an SQL engine, then it is a problem; for Elasticsearch it is all indices', () => {
    const { SNAPKEEPER_DATABASES: _d, ...rest } = valid;
    expect(problems(rest)).toEqual([expect.stringMatching(/^SNAPKEEPER_DATABASES: required/)]);
    const es = loadDumpConfig({ ...rest, SNAPKEEPER_TYPE: 'elasticsearch' });
    expect(es.target.databases).toBe('*');
    expect(es.target.esLimit).toBe(1000);
    expect(es.target.port).toBe(9200);
  });

  it('given "a,*", then it is refused', () => {
    expect(problems({ ...valid, SNAPKEEPER_DATABASES: 'a,*' })).toEqual([
      expect.stringMatching(/^SNAPKEEPER_DATABASES: \* cannot be combined/),
    ]);
  });

  it('given a secret key in SNAPKEEPER_RECIPIENTS, then the problem says so without the key', async () => {
    const secret = await generateIdentity();
    const p = problems({ ...valid, SNAPKEEPER_RECIPIENTS: secret });
    const line = p.find((l) => l.startsWith('SNAPKEEPER_RECIPIENTS'));
    expect(line).toContain('an age secret key');
    expect(p.join('\n')).not.toContain(secret.slice(16, 30));
  });
});
