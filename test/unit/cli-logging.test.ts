// -q / -v / --log-format on every command, and SNAPKEEPER_LOG_LEVEL /
// SNAPKEEPER_LOG_FORMAT values that mean nothing refused (exit 2), run
// in-process against a local directory.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram, progressMode, run } from '../../src/cli.js';
import type { CliContext } from '../../src/cli/context.js';
import { UserError } from '../../src/errors.js';
import { createLogger, parseFormat, parseLevel } from '../../src/log.js';
import { LocalStorage } from '../../src/storage/local.js';
import { fakeBackup, store } from './backups-fixture.js';

function ctx(env: NodeJS.ProcessEnv = {}) {
  let out = '';
  let err = '';
  const logs: string[] = [];
  const w = (f: (s: string) => void) =>
    new Writable({
      write(c, _e, cb) {
        f(String(c));
        cb();
      },
    });
  const c: CliContext = {
    stdout: w((s) => (out += s)),
    stderr: w((s) => (err += s)),
    env,
    // What a terminal would get without flags: text at info.
    log: createLogger({ level: 'info', format: 'text', write: (l) => logs.push(l) }),
    signal: new AbortController().signal,
  };
  return { c, out: () => out, err: () => err, logs };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapkeeper-logging-'));
  const storage = new LocalStorage(dir);
  await store(storage, fakeBackup('shop/pg', new Date('2026-11-20T03:00:00Z')));
  // Another workload's manifest under shop/pg/: skipped, with a debug line.
  const stray = fakeBackup('other/x', new Date('2026-11-20T03:00:00Z'));
  await storage.put('shop/pg/stray/manifest.json', JSON.stringify(stray.manifest));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const restore = (extra: string[], env: NodeJS.ProcessEnv = {}) => {
  const x = ctx(env);
  return run(['restore', '--from', dir, '--workload', 'shop/pg', '--stdout', ...extra], x.c).then(
    (code) => ({
      code,
      ...x,
    }),
  );
};

describe('parseLevel / parseFormat', () => {
  it('given the documented values in any case, then those values', () => {
    expect(parseLevel(' WARN', 'X')).toBe('warn');
    expect(parseLevel('debug', 'X')).toBe('debug');
    expect(parseFormat('JSON', 'X')).toBe('json');
    expect(parseFormat('text', 'X')).toBe('text');
  });

  it('given anything else, then a UserError naming the source and the accepted values', () => {
    expect(() => parseLevel('verbose', 'SNAPKEEPER_LOG_LEVEL')).toThrow(
      new UserError(
        'invalid SNAPKEEPER_LOG_LEVEL "verbose": expected one of debug, info, warn, error',
      ),
    );
    expect(() => parseFormat('yaml', 'SNAPKEEPER_LOG_FORMAT')).toThrow(
      new UserError('invalid SNAPKEEPER_LOG_FORMAT "yaml": expected one of text, json'),
    );
  });
});

describe('logging flags', () => {
  it('given --help of any command, then -q, -v and --log-format are shown', () => {
    const program = buildProgram(ctx().c);
    expect(program.commands.length).toBeGreaterThan(5);
    for (const sub of program.commands) {
      const help = sub.helpInformation();
      expect(help, sub.name()).toMatch(/-q, --quiet/);
      expect(help, sub.name()).toMatch(/-v, --verbose/);
      expect(help, sub.name()).toMatch(/--log-format <format>/);
    }
  });

  it('given no flag, then info lines in text, no debug lines', async () => {
    const r = await restore([]);
    expect(r.code).toBe(0);
    expect(r.logs.some((l) => l.startsWith('DEBUG'))).toBe(false);
    expect(r.logs.some((l) => l.startsWith('INFO  restored to stdout'))).toBe(true);
  });

  it('given -q (before or after the command), then no info lines', async () => {
    const after = await restore(['-q']);
    expect(after.code).toBe(0);
    expect(after.logs).toEqual([]);
    const x = ctx();
    expect(
      await run(['-q', 'restore', '--from', dir, '--workload', 'shop/pg', '--stdout'], x.c),
    ).toBe(0);
    expect(x.logs).toEqual([]);
  });

  it('given -v, then debug lines too', async () => {
    const r = await restore(['-v', '--at', '2026-11-20']);
    expect(r.code).toBe(0);
    expect(r.logs.some((l) => l.startsWith('DEBUG skipped manifest'))).toBe(true);
  });

  it('given --log-format json, then JSON lines; the flag wins over the variable', async () => {
    const r = await restore(['--log-format', 'json'], { SNAPKEEPER_LOG_FORMAT: 'text' });
    expect(r.code).toBe(0);
    expect(r.logs.length).toBeGreaterThan(0);
    for (const l of r.logs) expect(JSON.parse(l)).toMatchObject({ level: 'info' });
  });

  it('given SNAPKEEPER_LOG_LEVEL=warn, then no info lines', async () => {
    const r = await restore([], { SNAPKEEPER_LOG_LEVEL: 'warn' });
    expect(r.code).toBe(0);
    expect(r.logs).toEqual([]);
  });

  it.each([
    [[], { SNAPKEEPER_LOG_LEVEL: 'loud' }, /^snapkeeper: invalid SNAPKEEPER_LOG_LEVEL "loud"/],
    [[], { SNAPKEEPER_LOG_FORMAT: 'yaml' }, /^snapkeeper: invalid SNAPKEEPER_LOG_FORMAT "yaml"/],
    [['-q'], { SNAPKEEPER_LOG_LEVEL: 'loud' }, /invalid SNAPKEEPER_LOG_LEVEL/],
    [['-q', '-v'], {}, /^snapkeeper: give -q or -v, not both/],
    [['--log-format', 'yaml'], {}, /--log-format.*yaml.*text, json/],
  ])('given %j with %j, then one line on stderr and exit 2', async (flags, env, message) => {
    const r = await restore(flags, env);
    expect(r.code).toBe(2);
    expect(r.err()).toMatch(message);
    expect(r.err().trimEnd().split('\n')).toHaveLength(1);
    expect(r.out()).toBe('');
  });
});

describe("commander's errors", () => {
  it.each([
    [['bakup'], "snapkeeper: unknown command 'bakup' (did you mean backup?)\n"],
    [['restore', '--form', 'x'], "snapkeeper: unknown option '--form' (did you mean --from?)\n"],
    [['backup'], "snapkeeper: missing required argument 'url'\n"],
    [
      ['--log-format', 'xml', 'list'],
      expect.stringMatching(
        /^snapkeeper: option '--log-format <format>' argument 'xml' is invalid\. Allowed choices are text, json\.\n$/,
      ),
    ],
  ])(
    'given %j, then one line with the prefix of every error (and its suggestion), exit 2',
    async (argv, line) => {
      const x = ctx();
      expect(await run(argv, x.c)).toBe(2);
      expect(x.err()).toEqual(line);
    },
  );
});

describe('where progress goes', () => {
  const tty = Object.assign(new Writable(), { isTTY: true });
  const pipe = new Writable();
  it.each([
    ['a terminal', tty, false, undefined, 'line'],
    ['a terminal with --log-format text', tty, false, 'text', 'line'],
    ['a terminal with JSON logs asked for', tty, false, 'json', 'log'],
    ['a terminal with -q', tty, true, undefined, 'off'],
    ['a pipe (a Job, CI)', pipe, false, undefined, 'log'],
    ['a pipe with -q', pipe, true, undefined, 'off'],
  ] as const)('given %s, then %s', (_n, stderr, quiet, format, mode) => {
    expect(progressMode(stderr, quiet, format)).toBe(mode);
  });
});
