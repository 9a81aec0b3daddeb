import { describe, expect, it } from 'vitest';
import {
  mysqlDumpCommand,
  mysqlRestoreCommand,
  explainConnectFailure,
  needsColumnStatisticsOff,
  optionFileText,
  parseClientVersion,
  quoteIdentifier,
  type MysqlClientInfo,
} from '../../dumpers/mysql/commands.js';
import {
  pgDumpCommand,
  pgFormatOf,
  pgRestoreCommand,
  postgresql,
  psqlQuery,
} from '../../dumpers/postgresql.js';
import type { DumpTarget } from '../../dumpers/types.js';
import { DumpFailedError, OperationError } from '../../src/errors.js';

const secret = 's3cr3t "quoted" \\ pass';
const target = (over: Partial<DumpTarget> = {}): DumpTarget => ({
  host: 'db.shop.svc',
  port: 5432,
  username: 'app',
  password: secret,
  databases: ['app'],
  extraArgs: [],
  ...over,
});
const bin = (name: string) => `/bin/${name}`;

describe('PostgreSQL commands', () => {
  it('given a query (server version, CREATE DATABASE), then psql gets the password only in env', () => {
    const cmd = psqlQuery(target(), 'app');
    expect(cmd.args.join(' ')).not.toContain(secret);
    expect(cmd.args).toContain('--no-password');
    expect(cmd.env).toMatchObject({ PGPASSWORD: secret, PGDATABASE: 'app' });
  });

  it('given one database, when building the dump command, then pg_dump gets the address in argv and the password and database only in env', () => {
    const cmd = pgDumpCommand(target(), 'shop=1 host=evil', bin);
    expect(cmd.file).toBe('/bin/pg_dump');
    expect(cmd.args).toEqual([
      '--host',
      'db.shop.svc',
      '--port',
      '5432',
      '--no-password',
      '--username',
      'app',
    ]);
    expect(cmd.env.PGPASSWORD).toBe(secret);
    expect(cmd.env.PGDATABASE).toBe('shop=1 host=evil');
    expect(cmd.env.PGAPPNAME).toBe('snapkeeper');
    expect(cmd.args.join(' ')).not.toContain('s3cr3t');
  });

  it('given *, when building the dump command, then it is pg_dumpall', () => {
    const cmd = pgDumpCommand(target({ databases: '*' }), '*', bin);
    expect(cmd.file).toBe('/bin/pg_dumpall');
    expect(cmd.env.PGDATABASE).toBe('postgres');
  });

  it("given extra options, when building, then they follow snapkeeper's, verbatim, one argv entry each", () => {
    const cmd = pgDumpCommand(
      target({ extraArgs: ['--exclude-table=a b', '--no-owner', '$(rm -rf /)'] }),
      'app',
      bin,
    );
    expect(cmd.args.slice(-3)).toEqual(['--exclude-table=a b', '--no-owner', '$(rm -rf /)']);
  });

  it('given no user name and no password, when building, then neither appears', () => {
    const cmd = pgDumpCommand(target({ username: undefined, password: undefined }), 'app', bin);
    expect(cmd.args).not.toContain('--username');
    expect(cmd.env).not.toHaveProperty('PGPASSWORD');
  });

  it.each([
    [[], 'plain'],
    [['--format=custom'], 'custom'],
    [['-Fc'], 'custom'],
    [['-F', 'c'], 'custom'],
    [['--format', 'tar'], 'tar'],
    [['--format=plain'], 'plain'],
    [['-Fc', '--format=p'], 'plain'],
    [['--format=directory'], 'directory'],
  ] as const)('given options %j, then the format is %s', (args, format) => {
    expect(pgFormatOf(args)).toBe(format);
  });

  it('given custom format, then the manifest format is custom and the extension dump; directory is refused', () => {
    expect(postgresql.output(target({ extraArgs: ['-Fc'] }))).toEqual({
      format: 'custom',
      extension: 'dump',
    });
    expect(postgresql.output(target())).toEqual({ format: 'sql', extension: 'sql' });
    expect(() => postgresql.output(target({ extraArgs: ['-Fd'] }))).toThrow(/cannot be streamed/);
  });

  it('given formats, when building the restore command, then psql stops on the first error and pg_restore exits on it', () => {
    const sql = pgRestoreCommand(target(), 'copy', 'sql', bin);
    expect(sql.file).toBe('/bin/psql');
    expect(sql.args).toEqual(
      expect.arrayContaining(['-v', 'ON_ERROR_STOP=1', '--single-transaction']),
    );
    expect(sql.env.PGDATABASE).toBe('copy');
    const all = pgRestoreCommand(target(), '*', 'sql', bin);
    expect(all.args).not.toContain('--single-transaction');
    expect(all.env.PGDATABASE).toBe('postgres');
    const custom = pgRestoreCommand(target(), 'copy', 'custom', bin);
    expect(custom.file).toBe('/bin/pg_restore');
    expect(custom.args).toEqual(expect.arrayContaining(['--exit-on-error', '--dbname', 'copy']));
    // One transaction, like psql: a restore stopped by a late sha256 mismatch leaves nothing.
    expect(custom.args).toContain('--single-transaction');
  });
});

describe('MySQL / MariaDB commands', () => {
  const maria: MysqlClientInfo = {
    file: '/bin/mariadb-dump',
    vendor: 'mariadb',
    version: '10.11.19',
  };
  const oracle8: MysqlClientInfo = { file: '/bin/mysqldump', vendor: 'mysql', version: '8.4.3' };

  it('given one database, when building, then the options are the documented ones, the password is in no argv, and the name is positional', () => {
    const cmd = mysqlDumpCommand(
      target({ port: 3306 }),
      'shop',
      maria,
      '10.11.19-MariaDB',
      '/run/secrets/client.cnf',
    );
    expect(cmd.args[0]).toBe('--defaults-file=/run/secrets/client.cnf');
    expect(cmd.args).toEqual(
      expect.arrayContaining([
        '--single-transaction',
        '--routines',
        '--triggers',
        '--events',
        '--host=db.shop.svc',
        '--port=3306',
        '--user=app',
      ]),
    );
    expect(cmd.args.at(-1)).toBe('shop');
    expect(cmd.args).not.toContain('--databases');
    expect(cmd.args).not.toContain('--set-gtid-purged=OFF');
    expect(JSON.stringify(cmd)).not.toContain('s3cr3t');
  });

  it('given *, when building, then --all-databases', () => {
    const cmd = mysqlDumpCommand(target(), '*', maria, '10.11', '/f');
    expect(cmd.args.at(-1)).toBe('--all-databases');
  });

  it.each([
    ['8.4.3 client, 5.7 server', oracle8, '5.7.44-log', true],
    ['8.4.3 client, MariaDB server', oracle8, '10.11.6-MariaDB', true],
    ['8.4.3 client, 8.0 server', oracle8, '8.0.36', false],
    ['5.7 client, 5.7 server', { ...oracle8, version: '5.7.44' }, '5.7.44', false],
    ['MariaDB client, 5.7 server', maria, '5.7.44', false],
  ])('given a %s, then --column-statistics=0 is %s', (_n, client, server, expected) => {
    expect(needsColumnStatisticsOff(client, server)).toBe(expected);
    const cmd = mysqlDumpCommand(target(), 'db', client, server, '/f');
    expect(cmd.args.includes('--column-statistics=0')).toBe(expected);
  });

  it("given Oracle's client, then GTID state is left out of the dump", () => {
    expect(mysqlDumpCommand(target(), 'db', oracle8, '8.0.36', '/f').args).toContain(
      '--set-gtid-purged=OFF',
    );
  });

  it.each([
    [
      'mariadb-dump  Ver 10.19 Distrib 10.11.19-MariaDB, for debian-linux-gnu (x86_64)',
      'mariadb',
      '10.11.19',
    ],
    [
      'mariadb-dump from 11.8.3-MariaDB, client 10.19 for debian-linux-gnu (x86_64)',
      'mariadb',
      '11.8.3',
    ],
    ['mysqldump  Ver 8.0.36 for Linux on x86_64 (MySQL Community Server - GPL)', 'mysql', '8.0.36'],
    ['mysqldump  Ver 8.4.3 for Linux on x86_64 (MySQL Community Server - GPL)', 'mysql', '8.4.3'],
  ])('given `--version` output %j, then vendor %s version %s', (out, vendor, version) => {
    expect(parseClientVersion('/x', out)).toEqual({ file: '/x', vendor, version });
  });

  it('given a password with quotes, backslashes and newlines, then the option file quotes it', () => {
    expect(optionFileText('a"b\\c\nd')).toBe('[client]\npassword="a\\"b\\\\c\\nd"\n');
    expect(optionFileText(undefined)).toBe('[client]\n');
  });

  it('given a restore, then the client gives up connecting after 10 s', () => {
    expect(mysqlRestoreCommand(target(), 'copy', '/bin/mariadb', '/f').args).toContain(
      '--connect-timeout=10',
    );
  });

  it('given a client that got no greeting, then the error names the address and the likely mistake', () => {
    const err = explainConnectFailure(
      new DumpFailedError(
        'mariadb',
        1,
        "ERROR 2013 (HY000): Lost connection to server at 'handshake: reading initial communication packet', system error: 110",
      ),
      target(),
    ) as Error;
    expect(err).toBeInstanceOf(OperationError);
    expect(err.message).toMatch(
      /^no MySQL or MariaDB server answered at [^ ]+:\d+ within 10 s .*is the port right\?/,
    );
  });

  it('given a restore, then the client reads stdin into the named database in binary mode', () => {
    const cmd = mysqlRestoreCommand(target(), 'copy', '/bin/mariadb', '/f');
    expect(cmd.args[0]).toBe('--defaults-file=/f');
    expect(cmd.args).toContain('--binary-mode');
    expect(cmd.args.at(-1)).toBe('copy');
    expect(mysqlRestoreCommand(target(), '*', '/bin/mariadb', '/f').args.at(-1)).not.toBe('*');
  });

  it('given identifiers with backticks, then they are quoted by doubling', () => {
    expect(quoteIdentifier('a`b')).toBe('`a``b`');
  });
});
