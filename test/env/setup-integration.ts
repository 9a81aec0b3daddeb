// Global setup of the `integration` project: PostgreSQL, MariaDB and an S3
// server, started once for the project's run and stopped at its end.
import type { TestProject } from 'vitest/node';
import { startAll } from './servers/group.js';
import { startMariadb } from './servers/mariadb.js';
import { startPostgres } from './servers/postgres.js';
import { startS3 } from './servers/s3.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { servers, stop } = await startAll({
    postgres: startPostgres,
    mariadb: startMariadb,
    s3: () => startS3(),
  });
  const { postgres: pg, mariadb: my, s3 } = servers;
  project.provide('postgres', {
    host: pg.host,
    port: pg.port,
    user: pg.user,
    password: pg.password,
    binDir: pg.binDir,
  });
  project.provide('mariadb', {
    host: my.host,
    port: my.port,
    user: my.user,
    password: my.password,
    binDir: my.binDir,
  });
  project.provide('s3', {
    endpoint: s3.endpoint,
    region: s3.region,
    accessKeyId: s3.accessKeyId,
    secretAccessKey: s3.secretAccessKey,
    bucket: s3.bucket,
  });
  return stop;
}
