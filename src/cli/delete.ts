/**
 * `snapkeeper delete <backup>`: one backup removed, its objects first and its
 * manifest last (src/backups/keep.ts says why). In a terminal it asks
 * first; elsewhere (a script, CI) `--yes` says the question was answered.
 * A kept backup is refused: `unkeep` it first, so that two deliberate
 * steps are needed to lose what someone chose to keep.
 */
import { createInterface } from 'node:readline/promises';
import { deleteBackup, isKept } from '../backups/keep.js';
import { isIncomplete, type BackupEntry } from '../backups/list.js';
import { UserError } from '../errors.js';
import { formatBytes } from '../pipeline/progress.js';
import type { CliContext } from './context.js';
import type { NamedFlags } from './flags.js';
import { namedBackup } from './keep.js';

export interface DeleteFlags extends NamedFlags {
  yes?: boolean;
}

/** Asks a yes/no question; undefined when there is nobody to ask (not a terminal). */
export type Confirm = (question: string, ctx: CliContext) => Promise<boolean> | undefined;

export async function del(
  arg: string,
  flags: DeleteFlags,
  ctx: CliContext,
  confirm: Confirm = askTerminal,
): Promise<void> {
  const { storage, backup } = await namedBackup(arg, flags, ctx);
  const where = `${storage.description}${backup.manifestKey}`;
  if (await isKept(storage, backup.manifestKey))
    throw new UserError(`${where} is kept (snapkeeper keep): unkeep it first if it really must go`);
  if (!flags.yes) {
    const answer = confirm(`delete ${describe(backup)} at ${where}? [y/N] `, ctx);
    if (answer === undefined)
      throw new UserError(`not a terminal, so nobody can confirm: pass --yes to delete ${where}`);
    if (!(await answer)) {
      ctx.stderr.write('not deleted\n');
      return;
    }
  }
  const keys = await deleteBackup(storage, backup);
  ctx.log.debug('deleted', { keys });
  ctx.stdout.write(`deleted ${where} (${keys.length} file(s), ${formatBytes(backup.bytes)})\n`);
}

function describe(b: BackupEntry): string {
  const dbs = b.manifest.objects.map((o) => o.database).join(', ');
  const state = isIncomplete(b) ? ', incomplete' : '';
  return `the backup of ${b.workload} from ${b.time.toISOString()} (${dbs}, ${formatBytes(b.bytes)}${state})`;
}

/** y/N on the terminal: stdin and stderr must both be one. Ctrl-C stops the command. */
function askTerminal(question: string, ctx: CliContext): Promise<boolean> | undefined {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  ctx.stderr.write(question);
  return rl
    .question('', { signal: ctx.signal })
    .then((a) => /^\s*y(es)?\s*$/i.test(a))
    .finally(() => rl.close());
}
