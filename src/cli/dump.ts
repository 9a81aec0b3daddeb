/**
 * `snapkeeper dump`: the CronJob's entrypoint. Configured by environment
 * variables only (src/dump/config.ts, docs/dump-environment.md); its result
 * is one JSON line on stdout and in the termination-message file.
 */
import type { Command } from 'commander';
import { DUMPER_ENV, TERMINATION_MESSAGE_PATH } from '../contract/dumper-env.js';
import type { DumpResult } from '../contract/dump-result.js';
import { describeError } from '../errors.js';
import type { CliContext } from './context.js';

/** Registered from here, as the images run it; what it runs is imported when it starts. */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('dump')
    .description(
      "the CronJob's entrypoint: dump, compress, encrypt and upload, configured by environment variables",
    )
    .action(() => dump(ctx));
}

export async function dump(ctx: CliContext): Promise<void> {
  const [
    { getEngine },
    { loadDumpConfig },
    { formatResult },
    { writeResult },
    { runBackup },
    { openStorage },
  ] = await Promise.all([
    import('../../dumpers/index.js'),
    import('../dump/config.js'),
    import('../contract/dump-result.js'),
    import('../dump/result.js'),
    import('../dump/run.js'),
    import('../storage/open.js'),
  ]);
  const started = new Date();
  const terminationPath = ctx.env[DUMPER_ENV.terminationMessagePath] || TERMINATION_MESSAGE_PATH;
  const report = async (result: DumpResult) => {
    const line = formatResult(result);
    ctx.stdout.write(line + '\n');
    await writeResult(line, terminationPath);
  };
  try {
    const config = loadDumpConfig(ctx.env);
    const storage = openStorage(config.storage, { env: ctx.env });
    const result = await runBackup({
      engine: getEngine(config.engine),
      target: config.target,
      storage,
      recipients: config.recipients,
      compression: config.compression,
      keyTemplate: config.keyTemplate,
      workload: config.workload,
      log: ctx.log,
      signal: ctx.signal,
      retention: config.retention,
      staleUploadAgeMs: config.staleUploadAgeMs,
      shrinkThreshold: config.shrinkThreshold,
    });
    await report(result);
  } catch (err) {
    const finished = new Date();
    await report({
      ok: false,
      // Stopped (SIGTERM from the kubelet): say so, not what the stop broke.
      error: describeError(ctx.signal.aborted ? ctx.signal.reason : err),
      durationSeconds: (finished.getTime() - started.getTime()) / 1000,
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
    });
    throw err;
  }
}
