// A private PostgreSQL cluster: initdb into a temporary directory, `postgres`
// listening on 127.0.0.1 at a free port, password (SCRAM) authentication over
// TCP for the superuser `postgres` with a random password. The Unix socket
// (trust) lives in the same directory and is used only here, for readiness.
import { randomBytes } from 'node:crypto';
import { chown, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../exec.js';
import { postgresBinDir } from '../paths.js';
import {
  freePort,
  makeTempDir,
  removeDir,
  serverAccount,
  spawnServer,
  type DatabaseServerInfo,
  waitUntil,
  withCleanup,
} from './process.js';

export type PostgresInfo = DatabaseServerInfo;

export function startPostgres(): Promise<PostgresInfo & { stop(): Promise<void> }> {
  return withCleanup(async (onStop) => {
    const binDir = postgresBinDir();
    const as = serverAccount('postgres');
    const dir = await makeTempDir('postgres', as);
    onStop(() => removeDir(dir));
    const data = join(dir, 'data');
    const password = randomBytes(18).toString('base64url');
    const pwfile = join(dir, 'pwfile');
    await writeFile(pwfile, password + '\n', { mode: 0o600 });
    if (as) await chown(pwfile, as.uid, as.gid);

    await run(
      join(binDir, 'initdb'),
      [
        '--pgdata',
        data,
        '--username=postgres',
        `--pwfile=${pwfile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=trust',
        '--encoding=UTF8',
        '--locale=C.UTF-8',
        '--no-sync',
      ],
      { as },
    );

    const port = await freePort();
    const proc = spawnServer(
      'postgres',
      join(binDir, 'postgres'),
      [
        '-D',
        data,
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
      ],
      join(dir, 'postgres.log'),
      { as },
    );
    // SIGINT is PostgreSQL's "fast shutdown": disconnect clients, stop.
    onStop(async () => {
      if (!proc.exited) proc.child.kill('SIGINT');
      await proc.stop(15_000);
    });

    let version = '';
    await waitUntil(proc, `postgres on 127.0.0.1:${port}`, async () => {
      version = (
        await run(
          join(binDir, 'psql'),
          [
            '-h',
            '127.0.0.1',
            '-p',
            String(port),
            '-U',
            'postgres',
            '-d',
            'postgres',
            '-XAtqc',
            'SHOW server_version',
          ],
          { env: { PGPASSWORD: password, PGCONNECT_TIMEOUT: '2' }, timeoutMs: 5000 },
        )
      ).trim();
      return true;
    });

    return { host: '127.0.0.1', port, user: 'postgres', password, binDir, version };
  });
}
