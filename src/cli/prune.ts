/** `snapkeeper prune`: apply a retention policy to one workload's prefix; `--dry-run` only reports. */
import { parseWorkload } from '../backups/list.js';
import { UserError } from '../errors.js';
import { formatBytes } from '../pipeline/progress.js';
import { applyRetention } from '../retention/apply.js';
import { keepsEverything, parseRetention } from '../retention/policy.js';
import { abortStaleUploads, parseAge } from '../retention/stale.js';
import type { CliContext } from './context.js';
import type { FromFlags } from './flags.js';
import { checkOutput, formatTable, openFrom } from './storage-flags.js';

export interface PruneFlags extends FromFlags {
  workload?: string;
  retention?: string;
  dryRun?: boolean;
  abortUploadsOlderThan: string;
  output: string;
}

export async function prune(flags: PruneFlags, ctx: CliContext): Promise<void> {
  const output = checkOutput(flags.output);
  if (flags.workload === undefined)
    throw new UserError('prune applies to one workload: pass --workload <namespace/name>');
  const { namespace, name } = parseWorkload(flags.workload);
  const text = flags.retention ?? ctx.env.SNAPKEEPER_RETENTION;
  if (text === undefined || text.trim() === '')
    throw new UserError('no retention policy: pass --retention, e.g. keep-last=7,keep-daily=14');
  const parsed = parseRetention(text);
  if (!parsed.ok) throw new UserError(`--retention: ${parsed.error}`);
  if (keepsEverything(parsed.policy))
    throw new UserError('--retention: the policy keeps everything');
  const age = parseAge(flags.abortUploadsOlderThan);
  if (!age.ok) throw new UserError(`--abort-uploads-older-than: ${age.error}`);
  const storage = openFrom(flags, ctx);
  const now = new Date();
  const result = await applyRetention(storage, `${namespace}/${name}/`, parsed.policy, {
    now,
    dryRun: flags.dryRun ?? false,
    workload: flags.workload,
  });
  const uploads = await abortStaleUploads(storage, `${namespace}/${name}/`, {
    now,
    olderThanMs: age.ms,
    dryRun: flags.dryRun ?? false,
  });
  if (output === 'json') {
    ctx.stdout.write(
      JSON.stringify({
        policy: result.policy,
        dryRun: result.dryRun,
        kept: result.kept.map((k) => ({ manifestKey: k.backup.manifestKey, reasons: k.reasons })),
        removed: result.removed.map((r) => ({
          manifestKey: r.backup.manifestKey,
          keys: r.keys,
          ...(r.incomplete ? { incomplete: true } : {}),
        })),
        abortedUploads: uploads.map((u) => ({ key: u.key, started: u.started.toISOString() })),
      }) + '\n',
    );
    return;
  }
  const rows = [
    ...result.kept.map((k) => [
      k.backup.time.toISOString(),
      'keep',
      k.reasons.join(','),
      formatBytes(k.backup.bytes),
      k.backup.manifestKey,
    ]),
    ...result.removed.map((r) => [
      r.backup.time.toISOString(),
      (result.dryRun ? 'would delete' : 'deleted') + (r.incomplete ? ' (incomplete)' : ''),
      '',
      formatBytes(r.backup.bytes),
      r.backup.manifestKey,
    ]),
  ].sort((a, b) => (a[0]! < b[0]! ? 1 : -1));
  ctx.stdout.write(formatTable(['TIME', 'ACTION', 'KEPT BY', 'SIZE', 'MANIFEST'], rows));
  const verb = result.dryRun ? 'would delete' : 'deleted';
  ctx.stderr.write(
    `${verb} ${result.removed.length} backup(s), kept ${result.kept.length} (${result.policy})\n`,
  );
  if (uploads.length > 0)
    ctx.stderr.write(
      `${result.dryRun ? 'would abort' : 'aborted'} ${uploads.length} upload(s) left open for more than ` +
        `${flags.abortUploadsOlderThan}: ${uploads.map((u) => `${u.key} (started ${u.started.toISOString()})`).join(', ')}\n`,
    );
}
