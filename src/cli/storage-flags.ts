/**
 * What list, restore, verify and prune share: where the backups are
 * (`--from`, S3 flags), which workload, and a plain text table.
 */
import type { Command } from 'commander';
import { UserError } from '../errors.js';
import { openStorage } from '../storage/open.js';
import type { Storage } from '../storage/types.js';
import type { CliContext } from './context.js';

export interface FromFlags {
  from?: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
}

export function addFromFlags(cmd: Command): Command {
  return cmd
    .option('--from <location>', 'directory or s3://bucket/prefix (default SNAPKEEPER_STORAGE)')
    .option('--endpoint <url>', 'S3 endpoint (default AWS_ENDPOINT_URL_S3)')
    .option('--region <region>', 'S3 region (default AWS_REGION)')
    .option('--force-path-style', 'path-style S3 addressing (MinIO and the like)');
}

export function openFrom(flags: FromFlags, ctx: CliContext): Storage {
  const location = flags.from ?? ctx.env.SNAPKEEPER_STORAGE;
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

export const collect = (v: string, all: string[]) => [...all, v];
