/**
 * Registering the commands that talk to the cluster (status, trigger) and
 * completion (`operator` registers itself, in src/cli/operator.ts). Only their flags and help: what each does (and
 * the Kubernetes client, its largest dependency) loads when it runs.
 */
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { addClusterOptions } from '../flags.js';
import type { StatusOptions } from '../status.js';
import type { TriggerOptions } from '../trigger.js';

export function registerStatus(program: Command, ctx: CliContext): void {
  addClusterOptions(
    program
      .command('status')
      .description('every tracked workload: schedule, last success, size, next run, last error')
      .option('-o, --output <format>', 'table or json', 'table'),
  ).action(async (opts: StatusOptions) => (await import('../status.js')).status(opts, ctx));
}

export function registerTrigger(program: Command, ctx: CliContext): void {
  addClusterOptions(
    program
      .command('trigger')
      .description('run a workload backup now, as a Job made from its CronJob')
      .argument('<workload>', '<namespace>/<workload>')
      .option('-w, --wait', 'follow the Job to its end; exit 0 on success, 1 on failure')
      .option('--timeout <seconds>', 'with --wait: give up after this many seconds'),
  ).action(async (ref: string, opts: TriggerOptions) =>
    (await import('../trigger.js')).trigger(ref, opts, ctx),
  );
}

export function registerCompletion(program: Command, ctx: CliContext): void {
  program
    .command('completion')
    .description('print a shell completion script: bash, zsh or fish')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText(
      'after',
      '\nInstall:\n' +
        "  bash  echo 'source <(snapkeeper completion bash)' >> ~/.bashrc\n" +
        "  zsh   echo 'source <(snapkeeper completion zsh)' >> ~/.zshrc\n" +
        '  fish  snapkeeper completion fish > ~/.config/fish/completions/snapkeeper.fish\n',
    )
    .action(async (shell: string) => {
      const { checkShell, completionScript } = await import('../completion.js');
      ctx.stdout.write(completionScript(program, checkShell(shell)));
    });
}
