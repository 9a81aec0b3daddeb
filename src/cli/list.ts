import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { notAvailableYet } from './not-yet.js';

export function register(program: Command, _ctx: CliContext): void {
  program
    .command('list')
    .description('list backups (those with a manifest), newest first')
    .action(() => notAvailableYet('list'));
}
