// Progress as a person sees it: the built CLI in a real terminal (tmux +
// script), a backup of a PostgreSQL database of about 200 MiB to S3, then
// its restore. In the terminal: one line, rewritten in place, with the
// amounts, the rate, a percentage and an ETA; erased at the end, the usual
// summary after it. Outside a terminal: no control character at all.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPgDatabase, pgUrl, psql, scratchDir, uniqueName } from '../env/helpers.js';
import { s3Env } from './backup-support.js';
import { buildCli, startCli } from './cli-process.js';
import { slowProxy, startTerminal, type Terminal } from './terminal.js';

const pg = inject('postgres');
const s3 = inject('s3');
const s3Flags = ['--endpoint', s3.endpoint, '--region', s3.region, '--force-path-style'];

let cli: string;
let remove: () => Promise<void>;
let big: string;
let dir: string;
const prefix = uniqueName('progress');
const terminals: Terminal[] = [];

beforeAll(async () => {
  ({ cli, remove } = await buildCli());
  dir = await scratchDir('progress');
  big = await createPgDatabase(pg, uniqueName('big'));
  await psql(
    pg,
    big,
    'CREATE TABLE big AS SELECT g, md5(g::text) || md5((g * 7)::text) AS t FROM generate_series(1, 2500000) g;',
  );
}, 300_000);
afterAll(async () => {
  for (const t of terminals) await t.close();
  await remove?.();
});

const env = { ...s3Env(s3), NODE_NO_WARNINGS: '1', SNAPKEEPER_LOG_LEVEL: '', TERM: 'xterm' };

async function terminal(argv: string[]): Promise<Terminal> {
  const t = await startTerminal(dir, [process.execPath, cli, ...argv], env);
  terminals.push(t);
  return t;
}

/** The screens seen while `test` held, until the command ended. */
async function watch(t: Terminal, test: (line: string) => boolean): Promise<string[]> {
  const seen: string[] = [];
  while ((await t.exitCode()) === undefined) {
    const s = await t.screen();
    if (s.split('\n').some(test) && seen.at(-1) !== s) seen.push(s);
    await sleep(20);
  }
  return seen;
}

/** The line of a screen that `test` picks. */
const lineOf = (screen: string, test: (l: string) => boolean) => screen.split('\n').find(test)!;

/** The draws of the progress line in the raw output: each starts with \r and ends erasing the rest. */
const draws = (raw: string, label: string) =>
  raw.split('\r').filter((d) => d.startsWith(label) && d.endsWith('\x1b[K'));

const controlChars = /[\x00-\x08\x0b-\x1f\x7f]/; // eslint-disable-line no-control-regex

describe('progress in a terminal', () => {
  const isBackupLine = (l: string) => /^dumping \S+: /.test(l);
  // A PostgreSQL restore into one database is checked while it streams (and
  // rolled back on a mismatch): one phase. Targets that cannot be rolled back
  // get a sha256 pass first, labelled 1/2 and 2/2 (test/unit/pipeline-progress).
  const isRestoreLine = (l: string) => l.startsWith('restoring into ');

  it('given a backup in a terminal, then one line shows bytes, rate, % of the server size and ETA, rewritten in place, then the summary', async () => {
    const t = await terminal([
      'backup',
      pgUrl(pg, big),
      '--to',
      `s3://${s3.bucket}/${prefix}`,
      ...s3Flags,
      '--name',
      'shop/big',
    ]);
    const screens = await watch(t, isBackupLine);
    expect(await t.exitCode(), await t.screen()).toBe(0);
    // At least two different states of the line, each on the same row.
    const lines = screens.map((s) => lineOf(s, isBackupLine));
    expect(new Set(lines).size, lines.join('\n')).toBeGreaterThanOrEqual(2);
    const rows = screens.map((s) => s.split('\n').findIndex(isBackupLine));
    expect(new Set(rows).size).toBe(1);
    for (const l of lines)
      expect(l).toMatch(
        new RegExp(
          `^dumping ${big}: [\\d.]+ \\S?i?B of ~[\\d.]+ \\S?i?B read, [\\d.]+ \\S?i?B stored, [\\d.]+ \\S?i?B/s, \\d+%(, ETA \\d+:\\d\\d)?$`,
        ),
      );
    // Rewritten in place: \r, the line, erase to its end; never a newline between two draws.
    const raw = await t.raw();
    expect(draws(raw, `dumping ${big}: `).length).toBeGreaterThanOrEqual(2);
    // The line is gone at the end; the summary is there.
    const end = await t.screen();
    expect(end.split('\n').some(isBackupLine), end).toBe(false);
    expect(end).toMatch(/manifest: s3:\/\/.*manifest\.json/);
    await writeFile(join(dir, 'backup-screen.txt'), screens.at(-1)!);
    console.log(`backup in progress:\n${screens[Math.floor(screens.length / 2)]}`);
  }, 300_000);

  it('given a restore in a terminal, then the replay shows its labelled line, rewritten in place, then the summary', async () => {
    const into = uniqueName('into');
    // The S3 answers at about 40 MiB/s: the restore lasts long enough to be seen.
    const proxy = await slowProxy(s3.endpoint, 40 * 1024 * 1024);
    const t = await terminal([
      'restore',
      '--from',
      `s3://${s3.bucket}/${prefix}`,
      '--endpoint',
      proxy.url,
      '--region',
      s3.region,
      '--force-path-style',
      '--to',
      pgUrl(pg, into),
    ]);
    const screens = await watch(t, isRestoreLine);
    await proxy.close();
    expect(await t.exitCode(), await t.screen()).toBe(0);
    const raw = await t.raw();
    const replays = draws(raw, `restoring into ${into}: `);
    expect(replays.length).toBeGreaterThanOrEqual(2);
    const lines = screens.map((s) => lineOf(s, isRestoreLine)).filter(Boolean);
    expect(new Set(lines).size, lines.join('\n')).toBeGreaterThanOrEqual(2);
    for (const l of lines)
      expect(l).toMatch(
        /^restoring into \S+: [\d.]+ \S?i?B of [\d.]+ \S?i?B read, [\d.]+ \S?i?B plain, [\d.]+ \S?i?B\/s, \d+%/,
      );
    const end = await t.screen();
    expect(end.split('\n').some(isRestoreLine), end).toBe(false);
    expect(await psql(pg, into, 'SELECT count(*) FROM big')).toBe('2500000\n');
    await writeFile(join(dir, 'restore-screen.txt'), screens.at(-1)!);
    console.log(`restore in progress:\n${screens[Math.floor(screens.length / 2)]}`);
  }, 300_000);

  it('given no terminal, then the same backup writes log lines without a control character', async () => {
    const p = startCli(
      cli,
      ['backup', pgUrl(pg, big), '--to', `s3://${s3.bucket}/${prefix}`, ...s3Flags],
      { ...s3Env(s3), SNAPKEEPER_LOG_FORMAT: '', SNAPKEEPER_LOG_LEVEL: '' },
    );
    const { code } = await p.exited;
    const { stderr, stdout } = p.output();
    expect(code, stderr).toBe(0);
    expect(stderr).not.toMatch(controlChars);
    expect(stdout).not.toMatch(controlChars);
    for (const l of stderr.trim().split('\n'))
      expect(() => JSON.parse(l) as unknown, l).not.toThrow();
  }, 300_000);
});
