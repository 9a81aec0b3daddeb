import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { notAvailableYet } from './not-yet.js';

export function register(program: Command, _ctx: CliContext): void {
  program
    .command('operator')
    .description('run the controller (in cluster, or out of cluster with a kubeconfig)')
    .action(() => notAvailableYet('operator'));
}
