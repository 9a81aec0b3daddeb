import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { notAvailableYet } from './not-yet.js';

export function register(program: Command, _ctx: CliContext): void {
  program
    .command('decrypt')
    .description('decrypt an age-encrypted file with an identity file')
    .action(() => notAvailableYet('decrypt'));
}
