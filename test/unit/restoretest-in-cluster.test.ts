// The restore test's report in its container (src/restoretest/in-cluster.ts):
// one line at the termination-message path on every outcome, read back with
// parseReport. Real files in a temporary directory; the comparisons
// themselves run against real servers in test/integration.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli.js';
import { InterruptedError, OperationError, UserError } from '../../src/errors.js';
import { createLogger } from '../../src/log.js';
import { DUMPER_ENV } from '../../src/contract/dumper-env.js';
import { withTerminationReport } from '../../src/restoretest/in-cluster.js';

import { parseReport } from '../../src/contract/restore-test-report.js';
import type { RestoreTestResult } from '../../src/restoretest/result.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rt-in-cluster-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

let n = 0;
function setup(opts: { signal?: AbortSignal } = {}) {
  const path = join(dir, `termination-${++n}`);
  const logs: string[] = [];
  const times = [new Date('2026-12-01T03:00:00Z'), new Date('2026-12-01T03:00:04.5Z')];
  const ctx = {
    env: { [DUMPER_ENV.terminationMessagePath]: path } as NodeJS.ProcessEnv,
    log: createLogger({ level: 'warn', format: 'json', write: (l) => logs.push(l) }),
    signal: opts.signal ?? new AbortController().signal,
    now: () => times.shift() ?? new Date('2026-12-01T03:00:09Z'),
  };
  const read = async () => parseReport(await readFile(path, 'utf8'));
  return { path, ctx, logs, read };
}

const result = (mismatches: string[]): RestoreTestResult => ({
  schemaVersion: 1,
  backup: 'shop/postgres/20261201T020000Z/manifest.json',
  startedAt: '2026-12-01T03:00:00.000Z',
  finishedAt: '2026-12-01T03:01:40.000Z',
  ok: mismatches.length === 0,
  target: 'scratch',
  server: 'PostgreSQL 15.14',
  databases: [
    {
      database: 'app',
      tables: [{ name: 'public.orders', backup: 3002, restored: 3002 - mismatches.length }],
      objects: [],
    },
  ],
  checks: [],
  mismatches,
  notes: [],
  snapkeeperVersion: '0.1.0',
});

describe('the restore test report in the container', () => {
  it('given a finished comparison that passed, then its report is written and the value returned', async () => {
    const { ctx, read } = setup();
    const r = await withTerminationReport(ctx, async (report) => {
      report!.chose('shop/postgres/20261201T020000Z/manifest.json');
      await report!.finished(result([]));
      return 'done';
    });
    expect(r).toBe('done');
    expect(await read()).toMatchObject({
      kind: 'restore-test',
      ok: true,
      backup: 'shop/postgres/20261201T020000Z/manifest.json',
      durationSeconds: 100,
      tables: 1,
      checks: 0,
      mismatches: [],
    });
  });

  it('given a mismatch, when the command then fails with exit 1, then the report stays the comparison', async () => {
    const { ctx, read } = setup();
    const mismatch = 'public.orders: 3002 rows in the backup, 3001 restored';
    const failure = withTerminationReport(ctx, async (report) => {
      report!.chose('shop/postgres/20261201T020000Z/manifest.json');
      await report!.finished(result([mismatch]));
      throw new OperationError(`restore test failed: ${mismatch}`);
    });
    await expect(failure).rejects.toBeInstanceOf(OperationError);
    const got = await read();
    expect(got).toMatchObject({ ok: false, mismatches: [mismatch], tables: 1 });
    expect(got?.error).toBeUndefined();
  });

  it('given a failure after the backup was chosen, then the failure report names the backup and the error', async () => {
    const { ctx, read } = setup();
    const failure = withTerminationReport(ctx, (report) => {
      report!.chose('shop/postgres/20261201T020000Z/manifest.json');
      throw new OperationError('the scratch PostgreSQL server exited (code 1, signal null): boom');
    });
    await expect(failure).rejects.toThrow(/boom/);
    expect(await read()).toEqual({
      kind: 'restore-test',
      ok: false,
      backup: 'shop/postgres/20261201T020000Z/manifest.json',
      startedAt: '2026-12-01T03:00:00.000Z',
      finishedAt: '2026-12-01T03:00:04.500Z',
      durationSeconds: 4.5,
      mismatches: [],
      error: 'the scratch PostgreSQL server exited (code 1, signal null): boom',
    });
  });

  it('given a stop by SIGTERM, then the report says so, not what the stop broke', async () => {
    const stop = new AbortController();
    const { ctx, read } = setup({ signal: stop.signal });
    const failure = withTerminationReport(ctx, () => {
      stop.abort(new InterruptedError('SIGTERM'));
      throw new OperationError('psql killed by SIGTERM');
    });
    await expect(failure).rejects.toThrow(/psql killed/);
    expect((await read())?.error).toBe('interrupted by SIGTERM');
  });

  it('given a path that cannot be written, then the command outcome stands and a warning is logged', async () => {
    const { ctx, logs } = setup();
    ctx.env[DUMPER_ENV.terminationMessagePath] = join(dir, 'missing', 'termination-log');
    await expect(
      withTerminationReport(ctx, () => Promise.reject(new UserError('no backup'))),
    ).rejects.toBeInstanceOf(UserError);
    expect(logs.map((l) => JSON.parse(l) as { msg: string })).toEqual([
      expect.objectContaining({ msg: 'could not write the restore test report' }),
    ]);
  });

  it('given no termination-message path, then the command runs without a report and nothing is written', async () => {
    const { ctx, path } = setup();
    ctx.env = {};
    await expect(
      withTerminationReport(ctx, async (report) => {
        expect(report).toBeUndefined();
        throw new UserError('no backup');
      }),
    ).rejects.toBeInstanceOf(UserError);
    await expect(readFile(path)).rejects.toThrow(/ENOENT/);
  });
});

describe('snapkeeper restore-test with SNAPKEEPER_TERMINATION_MESSAGE_PATH', () => {
  async function cli(argv: string[], env: NodeJS.ProcessEnv) {
    let err = '';
    const code = await run(argv, {
      stdout: new Writable({ write: (_c, _e, cb) => cb() }),
      stderr: new Writable({
        write(c, _e, cb) {
          err += String(c);
          cb();
        },
      }),
      env,
      log: createLogger({ level: 'error', write: () => {} }),
      signal: new AbortController().signal,
    });
    return { code, err };
  }

  it('given no backup where it looks, then exit 2 and a failure report with the same reason', async () => {
    const { path, read } = setup();
    const empty = join(dir, 'no-backups');
    const r = await cli(['restore-test', '--from', empty, '--workload', 'shop/postgres'], {
      [DUMPER_ENV.terminationMessagePath]: path,
    });
    expect(r.code).toBe(2);
    const report = await read();
    expect(report).toMatchObject({ kind: 'restore-test', ok: false, mismatches: [] });
    expect(report?.backup).toBeUndefined();
    expect(r.err).toBe(`snapkeeper: ${report!.error}\n`);
  });
});
