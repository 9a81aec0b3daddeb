import { describe, expect, it } from 'vitest';
import { parseDatabaseList, parseDbUrl, withPasswordFromEnv } from '../../src/dburl.js';
import { UserError } from '../../src/errors.js';

describe('database URLs', () => {
  it.each([
    [
      'postgresql://app:pw@db:6543/shop',
      'postgresql',
      { host: 'db', port: 6543, username: 'app', password: 'pw', databases: ['shop'] },
    ],
    [
      'postgres://app@db/shop',
      'postgresql',
      { host: 'db', port: 5432, username: 'app', databases: ['shop'] },
    ],
    [
      'mysql://root:p%40ss%3Aw%2Fd@10.0.0.1/app',
      'mysql',
      { host: '10.0.0.1', port: 3306, username: 'root', password: 'p@ss:w/d', databases: ['app'] },
    ],
    [
      'mariadb://u:p@[::1]:3307/%C3%BCn%C3%AFc%C3%B8d%C3%A9',
      'mariadb',
      { host: '::1', port: 3307, databases: ['ünïcødé'] },
    ],
    ['postgresql://u:p@db/*', 'postgresql', { databases: '*' }],
    ['postgresql://u:p@db', 'postgresql', { databases: [] }],
    ['https://elastic:pw@es:9243', 'elasticsearch', { port: 9243, tls: true, databases: '*' }],
    ['http://es', 'elasticsearch', { port: 9200, tls: false }],
  ])('given %s, then engine %s and the target', (url, engine, partial) => {
    const r = parseDbUrl(url);
    expect(r.engine).toBe(engine);
    expect(r.target).toMatchObject(partial);
  });

  it.each([
    ['ftp://h/db', /unknown scheme "ftp"/],
    ['localhost:5432/db', /expected postgresql:\/\//],
    ['postgresql://u:p@h:0/db', /port 0 out of range/],
    ['postgresql://u:p@h:99999/db', /not a URL|port/],
    ['postgresql:///db', /no host|not a URL/],
    ['mysql://u:p@h/a/b', /one path segment/],
    ['http://es/index', /no path/],
    ['postgresql://u:%E0%A4%A@h/db', /password is not valid percent-encoding|not a URL/],
  ])('given %s, then a UserError says what is wrong', (url, message) => {
    expect(() => parseDbUrl(url)).toThrow(UserError);
    expect(() => parseDbUrl(url)).toThrow(message);
  });

  it('given a bad URL with a password, then the message does not show the password', () => {
    expect(() => parseDbUrl('postgresql://u:hunter2@h:99999/a/b')).toThrow(/^(?!.*hunter2)/s);
  });

  it.each([
    ['a,b , c,a', ['a', 'b', 'c']],
    ['*', '*'],
    [' * ', '*'],
  ])('given --databases %j, then %j', (v, out) => {
    expect(parseDatabaseList(v)).toEqual(out);
  });

  it.each([[''], [' , '], ['a,*']])('given --databases %j, then it is refused', (v) => {
    expect(() => parseDatabaseList(v)).toThrow(UserError);
  });
});

describe('withPasswordFromEnv', () => {
  const env = { SNAPKEEPER_PASSWORD: 'sk', PGPASSWORD: 'pg', MYSQL_PWD: 'my' };
  it.each([
    ['postgresql://u:url@h/db', env, 'url'],
    ['postgresql://u@h/db', env, 'sk'],
    ['postgresql://u@h/db', { PGPASSWORD: 'pg', MYSQL_PWD: 'my' }, 'pg'],
    ['mysql://u@h/db', { PGPASSWORD: 'pg', MYSQL_PWD: 'my' }, 'my'],
    ['mariadb://u@h/db', { SNAPKEEPER_PASSWORD: '', MYSQL_PWD: 'my' }, 'my'],
    ['http://u@es:9200', { PGPASSWORD: 'pg', MYSQL_PWD: 'my' }, undefined],
    ['postgresql://u@h/db', { MYSQL_PWD: 'my' }, undefined],
  ])('given %s and %j, then the password is %j', (url, e, password) => {
    expect(withPasswordFromEnv(parseDbUrl(url), e).target.password).toBe(password);
  });
});
