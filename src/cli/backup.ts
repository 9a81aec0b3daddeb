import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { notAvailableYet } from './not-yet.js';

export function register(program: Command, _ctx: CliContext): void {
  program
    .command('backup')
    .description('one-shot backup of a database URL to a directory or s3://bucket/prefix')
    .action(() => notAvailableYet('backup'));
}
