// When a dump tool runs under `stdbuf -o1M`, and when it runs as it is.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findExecutable, withOutputBuffer, workingStdbuf } from '../../dumpers/executables.js';

const dir = mkdtempSync(join(tmpdir(), 'snapkeeper-stdbuf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A directory holding only `files` (executable shell scripts). */
function pathWith(name: string, files: Record<string, string>): string {
  const d = join(dir, name);
  rmSync(d, { recursive: true, force: true });
  mkdirSync(d);
  for (const [f, body] of Object.entries(files))
    writeFileSync(join(d, f), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return d;
}

const cmd = { file: 'pg_dump', args: ['-h', 'db', '-p', '5432'], env: { PGPASSWORD: 'pw' } };

describe('withOutputBuffer', () => {
  const stdbuf = findExecutable(['stdbuf']);

  it.skipIf(!stdbuf)('runs a tool found on PATH under stdbuf -o1M, args and env kept', () => {
    const d = pathWith('found', { pg_dump: 'exit 0' });
    const env = { PATH: `${d}:${process.env.PATH}` };
    expect(withOutputBuffer(cmd, env)).toEqual({
      file: workingStdbuf(env),
      args: ['-o1M', join(d, 'pg_dump'), '-h', 'db', '-p', '5432'],
      env: { PGPASSWORD: 'pw' },
    });
    // An absolute path is kept as it is.
    const abs = { ...cmd, file: join(d, 'pg_dump') };
    expect(withOutputBuffer(abs, env).args.slice(0, 2)).toEqual(['-o1M', join(d, 'pg_dump')]);
  });

  it('leaves the command alone when the tool is not found (so it fails as "not found")', () => {
    const env = { PATH: pathWith('no-tool', {}) + `:${process.env.PATH}` };
    expect(withOutputBuffer({ ...cmd, file: 'no-such-dump-tool' }, env).file).toBe(
      'no-such-dump-tool',
    );
    expect(withOutputBuffer({ ...cmd, file: join(dir, 'absent') }, env).file).toBe(
      join(dir, 'absent'),
    );
  });

  it('leaves the command alone without stdbuf on PATH', () => {
    const d = pathWith('no-stdbuf', { pg_dump: 'exit 0' });
    expect(withOutputBuffer(cmd, { PATH: d })).toBe(cmd);
  });

  it('leaves the command alone when stdbuf does not work', () => {
    const d = pathWith('broken-stdbuf', { pg_dump: 'exit 0', stdbuf: 'exit 125' });
    expect(workingStdbuf({ PATH: d })).toBeUndefined();
    expect(withOutputBuffer(cmd, { PATH: d })).toBe(cmd);
  });
});
