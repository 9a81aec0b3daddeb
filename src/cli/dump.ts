import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { notAvailableYet } from './not-yet.js';

export function register(program: Command, _ctx: CliContext): void {
  program
    .command('dump')
    .description(
      "the CronJob's entrypoint: dump, compress, encrypt and upload, configured by environment variables",
    )
    .action(() => notAvailableYet('dump'));
}
