import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { notAvailableYet } from './not-yet.js';

export function register(program: Command, _ctx: CliContext): void {
  program
    .command('prune')
    .description('apply a retention policy to a workload prefix (--dry-run lists what would go)')
    .action(() => notAvailableYet('prune'));
}
