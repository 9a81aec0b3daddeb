/**
 * What list, restore, verify and prune share: the storage the `--from`
 * flags (src/cli/flags.ts) name, `--output`, and a plain text table.
 */
import { DUMPER_ENV } from '../contract/dumper-env.js';
import { UserError } from '../errors.js';
import { openStorage } from '../storage/open.js';
import type { Storage } from '../storage/types.js';
import type { CliContext } from './context.js';
import type { FromFlags } from './flags.js';

export function openFrom(flags: FromFlags, ctx: CliContext): Storage {
  // The restore-test CronJob sets it (src/contract/dumper-env.ts); a user may too.
  const location = flags.from ?? ctx.env[DUMPER_ENV.storage];
  if (!location || location.trim() === '')
    throw new UserError('where are the backups? pass --from <directory or s3://bucket/prefix>');
  return openStorage(location, {
    endpoint: flags.endpoint,
    region: flags.region,
    forcePathStyle: flags.forcePathStyle,
    env: ctx.env,
  });
}

export function checkOutput(output: string): 'table' | 'json' {
  if (output !== 'table' && output !== 'json')
    throw new UserError(`--output ${JSON.stringify(output)}: expected table or json`);
  return output;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
