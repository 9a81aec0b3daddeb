import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { notAvailableYet } from './not-yet.js';

export function register(program: Command, _ctx: CliContext): void {
  program
    .command('restore')
    .description('restore a backup into a database (--to) or to standard output (--stdout)')
    .action(() => notAvailableYet('restore'));
}
