// `snapkeeper dump`, configured only by the environment the operator sets:
// result line on stdout and in the termination-message file, retention
// after success, and one line per problem (exit 2) for a bad environment.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { createPgDatabase, psql, rcloneList, uniqueName } from '../env/helpers.js';
import { leftovers, s3Env, snapkeeper } from './backup-support.js';

const pg = inject('postgres');
const s3 = inject('s3');

describe('snapkeeper dump', () => {
  let db: string;
  let dir: string;
  beforeAll(async () => {
    db = await createPgDatabase(pg, uniqueName('pgdump'));
    await psql(
      pg,
      db,
      "CREATE TABLE t AS SELECT g, 'row ' || g AS s FROM generate_series(1, 2000) g;",
    );
    dir = await mkdtemp(join(tmpdir(), 'dump-cmd-'));
  });

  const env = (prefix: string, over: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
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
    SNAPKEEPER_WORKLOAD_NAMESPACE: 'shop',
    SNAPKEEPER_WORKLOAD_KIND: 'StatefulSet',
    SNAPKEEPER_WORKLOAD_NAME: 'postgres',
    SNAPKEEPER_TERMINATION_MESSAGE_PATH: join(dir, `${prefix}.log`),
    ...over,
  });

  it('given keep-last=1, when run twice, then each run reports its result and only the newest backup remains', async () => {
    const prefix = uniqueName('dump');
    const e = env(prefix, { SNAPKEEPER_RETENTION: 'keep-last=1' });
    const first = await snapkeeper(['dump'], e);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const r1 = JSON.parse(first.stdout);
    expect(r1).toMatchObject({
      ok: true,
      serverVersion: expect.any(String),
      retention: { kept: 1, removed: 0 },
    });
    expect(JSON.parse(await readFile(e.SNAPKEEPER_TERMINATION_MESSAGE_PATH!, 'utf8'))).toEqual(r1);

    // Straight after: two runs in one second each have their own identity.
    const second = await snapkeeper(['dump'], e);
    expect(second.code).toBe(0);
    const r2 = JSON.parse(second.stdout);
    expect(r2.retention).toEqual({ kept: 1, removed: 1 });

    const paths = (await rcloneList(s3, prefix)).map((x) => x.path).sort();
    expect(paths).toEqual([r2.manifestKey, r2.objects[0].key].sort());
    expect(r2.manifestKey).toMatch(
      /^shop\/postgres\/\d{8}T\d{6}\.\d{3}Z-[a-z2-9]{6}\/manifest\.json$/,
    );
    expect(second.logs.join('\n')).not.toContain(pg.password);
  });

  it('given a wrong password, then exit 1 and the termination message carries the reason', async () => {
    const prefix = uniqueName('dumpfail');
    const e = env(prefix, { SNAPKEEPER_PASSWORD: 'wrong' });
    const r = await snapkeeper(['dump'], e);
    expect(r.code).toBe(1);
    const msg = JSON.parse(await readFile(e.SNAPKEEPER_TERMINATION_MESSAGE_PATH!, 'utf8'));
    expect(msg).toMatchObject({
      ok: false,
      error: expect.stringMatching(/password authentication failed/),
    });
    expect(await leftovers(s3, prefix)).toEqual({ objects: [], uploads: [] });
  });

  it('given a bad environment, then exit 2 with one line per problem, also in the termination message', async () => {
    const prefix = uniqueName('dumpbad');
    const e = env(prefix, {
      SNAPKEEPER_TYPE: 'oracle',
      SNAPKEEPER_RECIPIENTS: 'age1broken',
      SNAPKEEPER_HOST: '',
    });
    const r = await snapkeeper(['dump'], e);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^snapkeeper: invalid dumper environment: /);
    for (const v of ['SNAPKEEPER_TYPE', 'SNAPKEEPER_RECIPIENTS', 'SNAPKEEPER_HOST']) {
      expect(r.stderr).toContain(`${v}: `);
    }
    const msg = JSON.parse(await readFile(e.SNAPKEEPER_TERMINATION_MESSAGE_PATH!, 'utf8'));
    expect(msg.ok).toBe(false);
    expect(msg.error).toContain('SNAPKEEPER_TYPE');
    expect(await leftovers(s3, prefix)).toEqual({ objects: [], uploads: [] });
  });
});
