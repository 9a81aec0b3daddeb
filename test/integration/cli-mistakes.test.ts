// Mistakes that help, against the real servers and the built CLI: a
// password asked in a real terminal without echo, a URL at another
// server's port that fails within the connect timeout, https:// against an
// http S3 server, a recipients file, a typo in a command.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  ageKeypair,
  createMariaDatabase,
  createPgDatabase,
  mariadbExec,
  mariadbUrl,
  pgUrl,
  psql,
  scratchDir,
  uniqueName,
} from '../env/helpers.js';
import { s3Env, snapkeeper } from './backup-support.js';
import { buildCli, runBuiltCli } from './cli-process.js';
import { startTerminal, type Terminal } from './terminal.js';

const pg = inject('postgres');
const my = inject('mariadb');
const s3 = inject('s3');

let cli: string;
let remove: () => Promise<void>;
let dir: string;
let db: string;
let myDb: string;
const terminals: Terminal[] = [];

beforeAll(async () => {
  ({ cli, remove } = await buildCli());
  dir = await scratchDir('mistakes');
  db = await createPgDatabase(pg, uniqueName('small'));
  await psql(pg, db, "CREATE TABLE t AS SELECT g, 'x' || g AS v FROM generate_series(1, 1000) g;");
  myDb = await createMariaDatabase(my, uniqueName('small'));
  await mariadbExec(my, myDb, 'CREATE TABLE t (g int); INSERT INTO t VALUES (1), (2);');
}, 120_000);
afterAll(async () => {
  for (const t of terminals) await t.close();
  await remove?.();
});

/** Every file under `d`, recursively. */
async function files(d: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(d, { withFileTypes: true, recursive: true }))
    if (e.isFile()) out.push(join(e.parentPath, e.name));
  return out;
}

describe('mistakes that help', () => {
  it.each([
    ['PostgreSQL', () => ({ url: pgUrl(pg, db), server: pg })],
    ['MariaDB', () => ({ url: mariadbUrl(my, myDb), server: my })],
  ])(
    "given no password anywhere and a terminal, then %s's is asked without echo and the backup runs",
    async (_n, which) => {
      const { url: full, server } = which();
      const to = join(dir, `prompted-${_n}`);
      const url = full.replace(/:[^:@/]*@/, '@'); // the URL without its password
      const t = await startTerminal(
        dir,
        [process.execPath, cli, 'backup', url, '--to', to, '--name', 'shop/small'],
        {
          NODE_NO_WARNINGS: '1',
          SNAPKEEPER_PASSWORD: '',
          PGPASSWORD: '',
          MYSQL_PWD: '',
          PGPASSFILE: join(dir, 'none'),
          SNAPKEEPER_LOG_LEVEL: 'warn',
        },
      );
      terminals.push(t);
      // (A screen's lines come without their trailing blanks.)
      await t.waitFor(
        'the password prompt',
        (s) => s.endsWith(`Password for ${server.user}@${server.host}:${server.port}:`),
        60_000,
      );
      await t.keys('-l', server.password);
      await t.keys('Enter');
      await t.waitFor('the end', (s) => s.includes('manifest: '), 60_000);
      expect(await t.exited()).toBe(0);
      const screen = await t.screen();
      expect(screen).not.toContain(server.password);
      expect((await t.raw()).includes(server.password)).toBe(false);
      expect((await files(to)).some((f) => f.endsWith('manifest.json'))).toBe(true);
    },
    120_000,
  );

  it('given a mysql:// URL at the PostgreSQL port, then it fails within the connect timeout, saying so', async () => {
    const started = Date.now();
    const r = await snapkeeper([
      'backup',
      `mysql://root:x@${pg.host}:${pg.port}/app`,
      '--to',
      join(dir, 'never'),
    ]);
    const seconds = (Date.now() - started) / 1000;
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^snapkeeper: no MySQL or MariaDB server answered at ${pg.host}:${pg.port} within 10 s .*is the port right\\?`,
      ),
    );
    expect(seconds).toBeLessThan(20);
  }, 90_000);

  it('given https:// against the http S3 server, then it says the server does not speak TLS', async () => {
    const endpoint = s3.endpoint.replace(/^http:/, 'https:');
    const r = await snapkeeper(
      ['list', '--from', `s3://${s3.bucket}/x`, '--endpoint', endpoint, '--region', s3.region],
      s3Env(s3),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^snapkeeper: .*the server at ${endpoint.replace(/[.]/g, '\\.')} does not speak TLS \\(is it http://\\?\\)\\n$`,
      ),
    );
    expect(r.stderr).not.toMatch(/SSL|EPROTO/);
  }, 90_000);

  it('given -R with a recipients file, then the backup is encrypted to each of them', async () => {
    const a = await ageKeypair();
    const b = await ageKeypair();
    const file = join(dir, 'recipients.txt');
    await writeFile(file, `# the team\n${a.recipient}\n\n${b.recipient}\n`);
    const to = join(dir, 'encrypted');
    const r = await snapkeeper(['backup', pgUrl(pg, db), '--to', to, '-R', file]);
    expect(r.code, r.stderr).toBe(0);
    const manifest = (await files(to)).find((f) => f.endsWith('manifest.json'))!;
    const m = JSON.parse(await readFile(manifest, 'utf8')) as {
      encryption: { recipients: string[] };
    };
    expect(m.encryption.recipients).toEqual([a.recipient, b.recipient]);
    // Either key opens it (restore to stdout with b's).
    const back = await snapkeeper(['restore', '--from', to, '--stdout', '-i', b.identityFile]);
    expect(back.code, back.stderr).toBe(0);
    expect(back.stdout).toContain('CREATE TABLE public.t');
  }, 120_000);

  it('given a typo in a command, then the suggestion too, one line with the prefix, exit 2', async () => {
    const r = await runBuiltCli(cli, ['bakup'], { NODE_NO_WARNINGS: '1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe("snapkeeper: unknown command 'bakup' (did you mean backup?)\n");
  });
});
