import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { notAvailableYet } from './not-yet.js';

export function register(program: Command, _ctx: CliContext): void {
  program
    .command('trigger')
    .description('run a workload backup now, as a Job made from its CronJob')
    .action(() => notAvailableYet('trigger'));
}
