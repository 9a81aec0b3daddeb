// A private MariaDB server: mariadb-install-db into a temporary directory,
// mariadbd on 127.0.0.1 at a free port with its own socket, no my.cnf read
// (--no-defaults), and `root` with a random password over TCP. The password is
// set by an --init-file, so it never appears on a command line.
import { randomBytes } from 'node:crypto';
import { chown, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from '../exec.js';
import { binaries, mariadbBinDir } from '../paths.js';
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

export type MariadbInfo = DatabaseServerInfo;

export function startMariadb(): Promise<MariadbInfo & { stop(): Promise<void> }> {
  return withCleanup(async (onStop) => {
    const binDir = mariadbBinDir();
    const as = serverAccount('mysql');
    const dir = await makeTempDir('mariadb', as);
    onStop(() => removeDir(dir));
    const data = join(dir, 'data');
    const socket = join(dir, 'mysqld.sock');
    const password = randomBytes(18).toString('base64url');

    await run(
      binaries.mariadbInstallDb(),
      [
        '--no-defaults',
        `--datadir=${data}`,
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
        ...(as ? [`--user=${as.name}`] : []),
      ],
      { as, cwd: dir, timeoutMs: 180_000 },
    );

    // Runs before the server accepts connections. With skip-name-resolve
    // (below) TCP clients are 127.0.0.1, not localhost.
    const initFile = join(dir, 'init.sql');
    const q = password.replace(/'/g, "''");
    await writeFile(
      initFile,
      [
        // mariadb-install-db may have made password-less root@127.0.0.1 and
        // root@::1 beside root@localhost: every one gets the password.
        `CREATE USER IF NOT EXISTS 'root'@'127.0.0.1';`,
        ...['localhost', '127.0.0.1', '::1'].map(
          (h) => `ALTER USER IF EXISTS 'root'@'${h}' IDENTIFIED BY '${q}';`,
        ),
        `GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;`,
        'FLUSH PRIVILEGES;',
      ].join('\n') + '\n',
      { mode: 0o600 },
    );
    if (as) await chown(initFile, as.uid, as.gid);

    const port = await freePort();
    const proc = spawnServer(
      'mariadb',
      binaries.mariadbd(),
      [
        '--no-defaults',
        `--datadir=${data}`,
        `--socket=${socket}`,
        `--pid-file=${join(dir, 'mariadbd.pid')}`,
        `--port=${port}`,
        '--bind-address=127.0.0.1',
        '--skip-name-resolve',
        `--init-file=${initFile}`,
        '--innodb-flush-log-at-trx-commit=0',
        '--innodb-doublewrite=0',
        '--skip-log-bin',
        ...(as ? [`--user=${as.name}`] : []),
      ],
      join(dir, 'mariadbd.log'),
      { as },
    );
    onStop(() => proc.stop(20_000));

    let version = '';
    await waitUntil(proc, `mariadbd on 127.0.0.1:${port}`, async () => {
      version = (
        await run(
          join(binDir, 'mariadb'),
          [
            '--no-defaults',
            '-h',
            '127.0.0.1',
            '-P',
            String(port),
            '-u',
            'root',
            '-N',
            '-B',
            '-e',
            'SELECT VERSION()',
          ],
          { env: { MYSQL_PWD: password }, timeoutMs: 5000 },
        )
      ).trim();
      return true;
    });

    return { host: '127.0.0.1', port, user: 'root', password, binDir, version };
  });
}
