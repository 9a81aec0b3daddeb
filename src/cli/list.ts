/**
 * `snapkeeper list`: the backups that have a manifest, newest first. The
 * table has what a person picks a backup by, one row per backup, and fits
 * 100 columns for a typical workload name; `-o wide` adds one row per object
 * with its key and checksum; `-o json` is for scripts.
 */
import { stat } from 'node:fs/promises';
import { isIncomplete, listBackups, type BackupEntry } from '../backups/list.js';
import { OperationError, UserError } from '../errors.js';
import { formatBytes } from '../pipeline/progress.js';
import { LocalStorage } from '../storage/local.js';
import { readRestoreTest } from '../restoretest/result.js';
import type { Storage } from '../storage/types.js';
import type { CliContext } from './context.js';
import type { FromFlags } from './flags.js';
import { formatTable, openFrom } from './storage-flags.js';

export interface ListFlags extends FromFlags {
  workload?: string;
  output: string;
}

export async function list(flags: ListFlags, ctx: CliContext): Promise<void> {
  const output = flags.output;
  if (output !== 'table' && output !== 'wide' && output !== 'json')
    throw new UserError(`--output ${JSON.stringify(output)}: expected table, wide or json`);
  const storage = openFrom(flags, ctx);
  await checkExists(storage);
  const onSkip = (key: string, why: string, unreadable: boolean) =>
    unreadable
      ? ctx.log.warn('skipped a manifest that cannot be read', { key, why })
      : ctx.log.debug('skipped manifest', { key, why });
  const backups = await listing(storage, () =>
    listBackups(storage, { workload: flags.workload, onSkip }),
  );
  if (backups.length === 0 && flags.workload !== undefined)
    await checkWorkload(storage, flags.workload);
  const tests = await restoreTests(storage, backups, ctx.signal);
  if (output === 'json') {
    ctx.stdout.write(
      JSON.stringify(backups.map((b) => toJson(b, tests.get(b.manifestKey)))) + '\n',
    );
    return;
  }
  if (backups.length === 0) {
    ctx.stderr.write(
      `no backups in ${storage.description}${flags.workload ? ` for ${flags.workload}` : ''}\n`,
    );
    return;
  }
  const incomplete = backups.filter(isIncomplete).length;
  ctx.stdout.write(
    output === 'wide' ? wideTable(backups, incomplete > 0, tests) : table(backups, tests),
  );
  if (incomplete > 0)
    ctx.stderr.write(
      `${incomplete} incomplete backup(s): a delete that did not finish (objects missing); ` +
        'delete it again or prune to finish it\n',
    );
}

/** One row per backup: what a person chooses a backup by. */
export function table(backups: readonly BackupEntry[], tests: Tests = new Map()): string {
  const incomplete = backups.some(isIncomplete);
  const header = [
    'TIME',
    'WORKLOAD',
    'DATABASES',
    'SIZE',
    'DURATION',
    'ENCRYPTED',
    'KEPT',
    'TESTED',
  ];
  const rows = backups.map((b) => [
    // To the millisecond: two backups can start in one second, and a TIME
    // typed back into --at (or delete, keep) must select its own row.
    b.time.toISOString(),
    b.workload,
    databases(b),
    formatBytes(b.bytes),
    formatDuration(b),
    b.manifest.encryption ? 'age' : 'no',
    b.kept ? 'keep' : '',
    tested(tests.get(b.manifestKey)),
    ...(incomplete ? [state(b)] : []),
  ]);
  return formatTable(incomplete ? [...header, 'STATE'] : header, rows);
}

/** One row per object, with everything: its key last, so it can be cut out. */
export function wideTable(
  backups: readonly BackupEntry[],
  withState: boolean,
  tests: Tests = new Map(),
): string {
  const header = [
    'TIME',
    'WORKLOAD',
    'ENGINE',
    'DATABASE',
    'SIZE',
    'DURATION',
    'ENCRYPTED',
    'KEPT',
    'TESTED',
    ...(withState ? ['STATE'] : []),
    'SHA256',
    'KEY',
  ];
  const rows = backups.flatMap((b) =>
    b.manifest.objects.map((o) => [
      b.time.toISOString(),
      b.workload,
      b.manifest.engine,
      o.database,
      formatBytes(o.bytes),
      formatDuration(b),
      b.manifest.encryption ? 'age' : 'no',
      b.kept ? 'keep' : '',
      tested(tests.get(b.manifestKey)),
      ...(withState ? [b.missing?.includes(o.key) ? 'missing' : state(b)] : []),
      o.sha256.slice(0, 12),
      o.key,
    ]),
  );
  return formatTable(header, rows);
}

/** The databases, up to about 24 characters, then how many more: `app,audit,+3`. */
function databases(b: BackupEntry): string {
  const names = b.manifest.objects.map((o) => (o.database === '*' ? '(all)' : o.database));
  let out = names[0] ?? '';
  let i = 1;
  for (; i < names.length; i++) {
    const more = names.length - i - 1;
    const next = `${out},${names[i]}`;
    if (next.length + (more > 0 ? `,+${more}`.length : 0) > 24) break;
    out = next;
  }
  return i < names.length ? `${out},+${names.length - i}` : out;
}

function state(b: BackupEntry): string {
  return isIncomplete(b)
    ? `incomplete (${b.missing!.length} of ${b.manifest.objects.length} objects missing)`
    : '';
}

/** `850ms`, `42s`, `3m05s`, `1h02m`: how long the dump and upload took. */
export function formatDuration(b: Pick<BackupEntry, 'manifest'>): string {
  const ms = Date.parse(b.manifest.finishedAt) - Date.parse(b.manifest.startedAt);
  if (!Number.isFinite(ms) || ms < 0) return '?';
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const pad = (n: number) => String(n).padStart(2, '0');
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
}

/**
 * A `--from` that does not exist is a mistake, not an empty list: a
 * missing directory is checked here, a missing bucket by the listing.
 */
async function checkExists(storage: Storage): Promise<void> {
  if (!(storage instanceof LocalStorage)) return;
  const s = await stat(storage.root).catch(() => undefined);
  if (!s) throw new UserError(`--from ${storage.root}: no such directory`);
  if (!s.isDirectory()) throw new UserError(`--from ${storage.root}: not a directory`);
}

async function listing<T>(storage: Storage, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    const cause = err instanceof OperationError ? (err.cause as { name?: string }) : undefined;
    if (cause?.name === 'NoSuchBucket')
      throw new UserError(`--from ${storage.description}: no such bucket`);
    throw err;
  }
}

/**
 * `--workload` that has no backups where the location has others: a typo,
 * most likely. Names the closest workload (edit distance), and all of them
 * when there are few. A location with no backups at all says nothing here.
 */
async function checkWorkload(storage: Storage, workload: string): Promise<void> {
  const all = await listBackups(storage);
  const names = [...new Set(all.map((b) => b.workload))].sort();
  if (names.length === 0 || names.includes(workload)) return;
  const closest = names
    .map((n) => ({ n, d: editDistance(n, workload) }))
    .sort((a, b) => a.d - b.d || a.n.localeCompare(b.n))[0]!.n;
  const few = names.length <= 5 ? ` (workloads there: ${names.join(', ')})` : '';
  throw new UserError(
    `no workload ${workload} in ${storage.description}: did you mean ${closest}?${few}`,
  );
}

/** Levenshtein distance: insertions, deletions and substitutions. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(
        prev[j]! + 1,
        cur[j - 1]! + 1,
        prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    prev = cur;
  }
  return prev[b.length]!;
}

type Tests = ReadonlyMap<string, Awaited<ReturnType<typeof readRestoreTest>>>;

/**
 * The stored restore-test results of the backups that have one (the listing
 * already says which: a read only for those), a few at a time.
 */
async function restoreTests(
  storage: Storage,
  backups: readonly BackupEntry[],
  signal: AbortSignal,
): Promise<Tests> {
  const todo = backups.filter((b) => b.tested);
  const out = new Map<string, Awaited<ReturnType<typeof readRestoreTest>>>();
  const worker = async () => {
    for (let b = todo.shift(); b; b = todo.shift())
      out.set(b.manifestKey, await readRestoreTest(storage, b.manifestKey, signal));
  };
  await Promise.all(Array.from({ length: Math.min(8, todo.length) }, worker));
  return out;
}

/** TESTED: `ok <day>` or `FAILED <day>` from the last restore test; `?` unreadable; empty never. */
export function tested(r: Awaited<ReturnType<typeof readRestoreTest>>): string {
  if (r === undefined) return '';
  if ('invalid' in r) return '?';
  return `${r.ok ? 'ok' : 'FAILED'} ${r.finishedAt.slice(0, 10)}`;
}

function toJson(b: BackupEntry, test?: Awaited<ReturnType<typeof readRestoreTest>>) {
  return {
    time: b.time.toISOString(),
    workload: b.workload,
    manifestKey: b.manifestKey,
    engine: b.manifest.engine,
    serverVersion: b.manifest.server.version,
    bytes: b.bytes,
    encrypted: b.manifest.encryption !== null,
    kept: b.kept ?? false,
    incomplete: isIncomplete(b),
    restoreTest:
      test === undefined || 'invalid' in test
        ? null
        : { ok: test.ok, finishedAt: test.finishedAt, mismatches: test.mismatches },
    objects: b.manifest.objects,
  };
}
