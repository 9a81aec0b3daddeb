// Global setup of the `integration` project: PostgreSQL, MariaDB and an S3
// server, started once for the project's run and stopped at its end.
import type { TestProject } from 'vitest/node';
import { info, startAll } from './servers/group.js';
import { startScratch } from './servers/process.js';
import { startMariadb } from './servers/mariadb.js';
import { startPostgres } from './servers/postgres.js';
import { startS3 } from './servers/s3.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { servers, stop } = await startAll({
    scratch: startScratch,
    postgres: () => startPostgres(),
    mariadb: () => startMariadb(),
    s3: () => startS3(),
  });
  project.provide('postgres', info(servers.postgres));
  project.provide('mariadb', info(servers.mariadb));
  project.provide('s3', info(servers.s3));
  project.provide('scratchDir', servers.scratch.dir);
  return stop;
}
