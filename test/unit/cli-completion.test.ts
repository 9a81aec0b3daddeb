// `snapkeeper completion bash|zsh|fish`, tried in the real shells: bash
// registers the function and, driven as readline drives it (COMP_WORDS,
// COMP_CWORD), offers commands, options, values, and the workloads of the
// --from directory through the bundled CLI; fish is asked with `complete -C`;
// zsh loads the script through bashcompinit. A shell that is not installed
// is skipped, and says so.
import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStorage } from '../../src/storage/local.js';
import { exec } from '../env/helpers.js';
import { buildCli } from '../integration/cli-process.js';
import { fakeBackup, store } from './backups-fixture.js';
import { runCli as cli } from './cli-run.js';

const has = (shell: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${shell}`]);
    return true;
  } catch {
    return false;
  }
};

let dir: string;
let bin: string;
let backups: string;
let remove: () => Promise<void>;
const scripts: Record<string, string> = {};
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapkeeper-completion-'));
  // `snapkeeper` on PATH, as `npm i -g` puts it there.
  const built = await buildCli();
  remove = built.remove;
  bin = join(dir, 'bin');
  await execFileSync('mkdir', ['-p', bin]);
  await writeFile(
    join(bin, 'snapkeeper'),
    `#!/bin/sh\nexec '${process.execPath}' '${built.cli}' "$@"\n`,
  );
  await chmod(join(bin, 'snapkeeper'), 0o755);
  backups = join(dir, 'backups dir');
  const storage = new LocalStorage(backups);
  await store(storage, fakeBackup('shop/postgres', new Date('2026-11-20T03:00:00Z')));
  await store(storage, fakeBackup('shop/mariadb', new Date('2026-11-20T04:00:00Z')));
  await store(storage, fakeBackup('billing/pg', new Date('2026-11-20T05:00:00Z')));
  for (const shell of ['bash', 'zsh', 'fish']) {
    const r = await cli(['completion', shell]);
    expect(r.code).toBe(0);
    scripts[shell] = join(dir, `completion.${shell}`);
    await writeFile(scripts[shell], r.out);
  }
}, 60_000);
afterAll(async () => {
  await remove();
  await rm(dir, { recursive: true, force: true });
});

const env = () => ({ PATH: `${bin}:${process.env.PATH}`, HOME: dir });

/** Candidates bash offers for the words typed so far (the last one is being completed). */
async function bashComplete(words: string[]): Promise<string[]> {
  const script = [
    'source "$1"; shift',
    'COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))',
    '_snapkeeper',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const r = await exec('bash', ['-c', script, 'bash', scripts.bash!, ...words], {
    env: env(),
    timeoutMs: 30_000,
  });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout.toString().split('\n').filter(Boolean);
}

describe('completion bash', () => {
  it('given the script sourced, then snapkeeper and kubectl-snapkeeper complete with it', async () => {
    const r = await exec(
      'bash',
      ['-c', 'source "$1" && complete -p snapkeeper kubectl-snapkeeper', 'bash', scripts.bash!],
      { env: env() },
    );
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe(
      'complete -F _snapkeeper snapkeeper\ncomplete -F _snapkeeper kubectl-snapkeeper\n',
    );
  });

  it.each([
    [
      ['snapkeeper', ''],
      ['operator', 'dump', 'backup', 'list', 'restore', 'decrypt', 'verify'],
    ],
    [['snapkeeper', 'un'], ['unkeep']],
    [
      ['snapkeeper', 'de'],
      ['decrypt', 'delete'],
    ],
    [['snapkeeper', '-q', 'li'], ['list']],
    [
      ['snapkeeper', '--log-format', ''],
      ['text', 'json'],
    ],
    [['snapkeeper', 'list', '--w'], ['--workload']],
    [
      ['snapkeeper', 'delete', '--'],
      ['--from', '--workload', '--yes', '--help', '--quiet'],
    ],
    [
      ['snapkeeper', 'list', '-o', ''],
      ['table', 'wide', 'json'],
    ],
    [
      ['snapkeeper', 'prune', '--output', ''],
      ['table', 'json'],
    ],
    [
      ['snapkeeper', 'completion', ''],
      ['bash', 'zsh', 'fish'],
    ],
    [['snapkeeper', 'restore', '--at', ''], []],
  ])('given %j, then the candidates include %j', async (words, expected) => {
    const got = await bashComplete(words);
    for (const e of expected) expect(got).toContain(e);
    if (expected.length === 0) expect(got).toEqual([]);
  });

  it('given --workload after --from, then the workloads of that location, through snapkeeper list', async () => {
    expect(
      await bashComplete(['snapkeeper', 'restore', '--from', backups, '--workload', '']),
    ).toEqual(['billing/pg', 'shop/mariadb', 'shop/postgres']);
    expect(
      await bashComplete(['snapkeeper', 'prune', '--from', backups, '--workload', 'shop/m']),
    ).toEqual(['shop/mariadb']);
  }, 60_000);

  it('given --workload and no location, then no candidates and no error', async () => {
    expect(await bashComplete(['snapkeeper', 'list', '--workload', ''])).toEqual([]);
  });

  it('given a file-valued option, then files', async () => {
    expect(await bashComplete(['snapkeeper', 'decrypt', '-i', join(dir, 'completion.b')])).toEqual([
      scripts.bash,
    ]);
  });
});

describe('completion fish', () => {
  it.skipIf(!has('fish'))(
    'given the script, then fish parses it and offers commands, values and workloads',
    async () => {
      const ask = async (line: string) => {
        const r = await exec(
          'fish',
          [
            '--no-config',
            '-c',
            `source $argv[1]; complete -C ${JSON.stringify(line)}`,
            scripts.fish!,
          ],
          { env: env(), timeoutMs: 30_000 },
        );
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        return r.stdout
          .toString()
          .split('\n')
          .filter(Boolean)
          .map((l) => l.split('\t')[0]);
      };
      expect(await ask('snapkeeper unk')).toEqual(['unkeep']);
      expect(await ask('snapkeeper list -o ')).toEqual(['json', 'table', 'wide']);
      expect(await ask(`snapkeeper list --from '${backups}' --workload `)).toEqual([
        'billing/pg',
        'shop/mariadb',
        'shop/postgres',
      ]);
    },
    60_000,
  );
});

describe('completion zsh', () => {
  it.skipIf(!has('zsh'))(
    'given the script, then zsh parses it and registers the completion for snapkeeper',
    async () => {
      const n = await exec('zsh', ['-n', scripts.zsh!]);
      expect(n.stderr).toBe('');
      expect(n.code).toBe(0);
      const r = await exec(
        'zsh',
        ['-f', '-c', 'source "$1" && print -r -- "$_comps[snapkeeper]"', 'zsh', scripts.zsh!],
        { env: env(), timeoutMs: 30_000 },
      );
      expect(r.code).toBe(0);
      expect(r.stdout.toString()).toMatch(/_bash_complete/);
    },
    60_000,
  );
});

it('given an unknown shell, then one line, exit 2', async () => {
  const r = await cli(['completion', 'tcsh']);
  expect(r.code).toBe(2);
  expect(r.err).toBe('snapkeeper: completion "tcsh": expected bash, zsh or fish\n');
});
