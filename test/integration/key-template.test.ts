// A key template the operator accepts is one the dumper runs with: the
// operator's configuration is loaded with it, and the template it would put
// on the CronJobs goes to a real `snapkeeper dump` against PostgreSQL and
// the S3 server; the backup is listed and restored by its key. The template
// of issue 10, which the operator used to accept, is refused at start.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { loadOperatorConfig } from '../../src/config/operator.js';
import { ConfigError } from '../../src/errors.js';
import { createPgDatabase, psql, uniqueName } from '../env/helpers.js';
import { s3Env, snapkeeper } from './backup-support.js';

const pg = inject('postgres');
const s3 = inject('s3');

const operatorEnv = { SNAPKEEPER_WATCH_NAMESPACES: 'shop', SNAPKEEPER_STORAGE: 's3://backups/p' };
const s3Flags = ['--endpoint', s3.endpoint, '--region', s3.region, '--force-path-style'];

describe('key templates the operator accepts, run by the dumper', () => {
  let db: string;
  beforeAll(async () => {
    db = await createPgDatabase(pg, uniqueName('tmpl'));
    await psql(pg, db, `CREATE TABLE marker (who text); INSERT INTO marker VALUES ('${db}');`);
  });

  it('given the template of the issue, then the operator refuses to start, naming the reason', () => {
    let err: unknown;
    try {
      loadOperatorConfig({
        ...operatorEnv,
        SNAPKEEPER_KEY_TEMPLATE: '{namespace}/{workload}-{timestamp}.gz',
      });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.join('\n')).toMatch(
      /^SNAPKEEPER_KEY_TEMPLATE: .*directory part must contain \{timestamp\}/,
    );
  });

  it.each([
    '{YYYY}/{MM}/{DD}/{type}/{namespace}-{workload}/{timestamp}/{database}.{ext}',
    'x/{namespace}/{timestamp}-{kind}/{database}-{type}.{ext}',
    '{namespace}/{workload}/{YYYY}{MM}/{timestamp}/{database}.{ext}',
    '{timestamp}/{database}.{ext}',
    '  {namespace}/{workload}/{timestamp}/{database}.{ext}  ',
  ])(
    'given %j, when the operator accepts it, then a dump with it succeeds and restores by its key',
    async (template) => {
      const keyTemplate = loadOperatorConfig({
        ...operatorEnv,
        SNAPKEEPER_KEY_TEMPLATE: template,
      }).keyTemplate;
      const prefix = uniqueName('tmpl');
      const r = await snapkeeper(['dump'], {
        ...s3Env(s3),
        AWS_ENDPOINT_URL_S3: s3.endpoint,
        SNAPKEEPER_S3_FORCE_PATH_STYLE: 'true',
        SNAPKEEPER_TYPE: 'postgresql',
        SNAPKEEPER_HOST: pg.host,
        SNAPKEEPER_PORT: String(pg.port),
        SNAPKEEPER_USERNAME: pg.user,
        SNAPKEEPER_PASSWORD: pg.password,
        SNAPKEEPER_DATABASES: db,
        SNAPKEEPER_STORAGE: `s3://${s3.bucket}/${prefix}`,
        SNAPKEEPER_KEY_TEMPLATE: keyTemplate,
        SNAPKEEPER_WORKLOAD_NAMESPACE: 'shop',
        SNAPKEEPER_WORKLOAD_KIND: 'StatefulSet',
        SNAPKEEPER_WORKLOAD_NAME: 'postgres',
        SNAPKEEPER_TERMINATION_MESSAGE_PATH: '',
      });
      expect([r.code, r.stderr]).toEqual([0, '']);
      const result = JSON.parse(r.stdout) as { ok: boolean; manifestKey: string };
      expect(result.ok).toBe(true);

      const restored = await snapkeeper(
        [
          'restore',
          '--from',
          `s3://${s3.bucket}/${prefix}`,
          ...s3Flags,
          '--key',
          result.manifestKey,
          '--stdout',
        ],
        s3Env(s3),
      );
      expect([restored.code, restored.stderr]).toEqual([0, '']);
      expect(restored.stdout).toContain(db);
    },
  );
});
