// The test environment's servers (test/env/servers/process.ts) outlive no
// test run: a run that is SIGKILLed (a CI timeout, an OOM kill, a stopped
// session) runs no teardown and no exit handler, so the kernel must end its
// servers (an OpenSearch JVM, versitygw, PostgreSQL...), or every killed run
// would leave them running on the machine.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../env/paths.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'snapkeeper-orphans-'));
  await build({
    entryPoints: [join(repoRoot, 'test', 'env', 'servers', 'process.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    outfile: join(dir, 'process.mjs'),
    logLevel: 'silent',
  });
  // a test run's global setup: starts a server, then waits to be killed
  await writeFile(
    join(dir, 'run.mjs'),
    `import { spawnServer } from './process.mjs';
const s = spawnServer('sleeper', 'sleep', ['600'], ${JSON.stringify(join(dir, 'sleeper.log'))});
console.log(s.child.pid);
setInterval(() => {}, 1000);
`,
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const alive = (pid: number) => {
  try {
    // a zombie has exited: only its parent (gone) could reap it
    return !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
};

describe('test servers of a killed run', () => {
  it('given a run killed with SIGKILL, when it had a server running, then the server ends too', async () => {
    const run = spawn(process.execPath, [join(dir, 'run.mjs')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const pid = await new Promise<number>((resolve, reject) => {
      run.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      run.once('exit', (code) => reject(new Error(`run.mjs exited (${code})`)));
    });
    try {
      expect(alive(pid)).toBe(true);
      run.kill('SIGKILL');
      const deadline = Date.now() + 3000;
      while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(alive(pid), `server pid ${pid} still running after its run was killed`).toBe(false);
    } finally {
      if (existsSync(`/proc/${pid}`)) process.kill(pid, 'SIGKILL');
    }
  }, 15_000);
});
