/**
 * `snapkeeper restore-test` in the restore-test CronJob's container: when
 * SNAPKEEPER_TERMINATION_MESSAGE_PATH is set (the CronJob sets it to
 * /dev/termination-log), the command writes one line there on every outcome,
 * the report of src/contract/restore-test-report.ts that the operator reads back from
 * the finished Job with `parseReport`:
 *
 * - the comparison finished (passed, a mismatch, a failed check):
 *   `reportFromResult`, written as soon as the result exists, so that what
 *   the command does after it (storing restore-test.json, exit 1 for a
 *   mismatch) cannot replace it;
 * - it stopped before (no backup, a wrong key, a restore that failed, a
 *   scratch server that would not start, SIGTERM at the Job's deadline, a
 *   mistake in the CronJob's arguments): `failureReport` with the error and
 *   the backup, when one had been chosen.
 *
 * Writing the report is best effort: a path that cannot be written is
 * logged, and the command's own outcome (its exit code) stands.
 */
import { writeFile } from 'node:fs/promises';
import { DUMPER_ENV } from '../contract/dumper-env.js';
import { describeError } from '../errors.js';
import type { Logger } from '../log.js';
import { formatReport, type RestoreTestReport } from '../contract/restore-test-report.js';
import { failureReport, reportFromResult } from './report.js';
import type { RestoreTestResult } from './result.js';

/** What the command tells its report while it runs. */
export interface TerminationReport {
  /** The backup chosen: a failure from here on names it. */
  chose(manifestKey: string): void;
  /** The comparison finished: its report is written now, and stays. */
  finished(result: RestoreTestResult): Promise<void>;
}

export interface InClusterContext {
  env: NodeJS.ProcessEnv;
  log: Logger;
  /** The command's signal: when it was stopped, the stop is the reason reported. */
  signal: AbortSignal;
  now?: () => Date;
}

/**
 * Runs `run` with a report to fill when the termination-message path is set
 * (else with none, and nothing is written); on an error that left no report,
 * writes the failure report, then rethrows: the exit code is the command's.
 */
export async function withTerminationReport<T>(
  ctx: InClusterContext,
  run: (report: TerminationReport | undefined) => Promise<T>,
): Promise<T> {
  const path = ctx.env[DUMPER_ENV.terminationMessagePath];
  if (!path) return run(undefined);
  const now = ctx.now ?? (() => new Date());
  const startedAt = now();
  let backup: string | undefined;
  let written = false;
  const write = async (report: RestoreTestReport) => {
    written = true;
    try {
      await writeFile(path, formatReport(report));
    } catch (err) {
      ctx.log.warn('could not write the restore test report', {
        path,
        error: describeError(err),
      });
    }
  };
  try {
    return await run({
      chose: (manifestKey) => {
        backup = manifestKey;
      },
      finished: (result) => write(reportFromResult(result)),
    });
  } catch (err) {
    if (!written) {
      // Stopped (SIGTERM from the kubelet): say so, not what the stop broke.
      const reason = describeError(ctx.signal.aborted ? ctx.signal.reason : err);
      await write(failureReport(reason, startedAt, now(), backup));
    }
    throw err;
  }
}
