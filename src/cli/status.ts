import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { notAvailableYet } from './not-yet.js';

export function register(program: Command, _ctx: CliContext): void {
  program
    .command('status')
    .description('every tracked workload: schedule, last success, size, next run, last error')
    .action(() => notAvailableYet('status'));
}
