// `snapkeeper decrypt` opens what the reference `age` binary wrote, and a
// wrong key fails without leaving an output file behind.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { binaries } from '../env/paths.js';
import { ageKeypair, run } from '../env/helpers.js';
import { snapkeeper } from './backup-support.js';

describe('decrypt', () => {
  it('given a file encrypted by age, then decrypt -i key -o out restores it; a wrong key exits 1 and leaves no file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'snapkeeper-decrypt-'));
    const plain = randomBytes(300 * 1024); // several 64 KiB age chunks
    await writeFile(join(dir, 'plain'), plain);
    const { identityFile, recipient } = await ageKeypair();
    await run(binaries.age(), ['-r', recipient, '-o', join(dir, 'x.age'), join(dir, 'plain')]);

    const ok = await snapkeeper([
      'decrypt',
      '-i',
      identityFile,
      join(dir, 'x.age'),
      '-o',
      join(dir, 'out'),
    ]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect((await readFile(join(dir, 'out'))).equals(plain)).toBe(true);

    const other = await ageKeypair();
    const bad = await snapkeeper([
      'decrypt',
      '-i',
      other.identityFile,
      join(dir, 'x.age'),
      '-o',
      join(dir, 'bad'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^snapkeeper: decrypt .*x\.age: /);
    expect(existsSync(join(dir, 'bad'))).toBe(false);

    const missing = await snapkeeper(['decrypt', '-i', identityFile, join(dir, 'nope.age')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.age: ENOENT/);
  });

  it('given -o naming a file that exists, when decrypt fails half-way, then that file is untouched and no partial file is left', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'snapkeeper-decrypt-'));
    const { identityFile, recipient } = await ageKeypair();
    await writeFile(join(dir, 'plain'), randomBytes(300 * 1024));
    await run(binaries.age(), ['-r', recipient, '-o', join(dir, 'x.age'), join(dir, 'plain')]);
    // Cut in the middle of a chunk: age fails on it after writing the chunks before.
    const whole = await readFile(join(dir, 'x.age'));
    await writeFile(join(dir, 'cut.age'), whole.subarray(0, 200 * 1024));
    await writeFile(join(dir, 'out'), 'the previous contents');
    const r = await snapkeeper([
      'decrypt',
      '-i',
      identityFile,
      join(dir, 'cut.age'),
      '-o',
      join(dir, 'out'),
    ]);
    expect(r.code).toBe(1);
    expect(await readFile(join(dir, 'out'), 'utf8')).toBe('the previous contents');
    expect((await readdir(dir)).sort()).toEqual(['cut.age', 'out', 'plain', 'x.age']);
  });
});
