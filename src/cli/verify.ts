import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { notAvailableYet } from './not-yet.js';

export function register(program: Command, _ctx: CliContext): void {
  program
    .command('verify')
    .description('download a backup, check its sha256, decrypt and decompress it end to end')
    .action(() => notAvailableYet('verify'));
}
