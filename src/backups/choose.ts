import { parseBackupId } from '../dump/key.js';
import { UserError } from '../errors.js';
import { isIncomplete, type BackupEntry } from './list.js';

/** Which backup: by key (or a segment of it), the newest at or before `at`, or the newest. */
export interface Choice {
  at?: Date;
  key?: string;
}

/**
 * `--at` as users give it, turned into a choice. A time covers the whole
 * unit it is written to — `2026-11-20T03:00:00Z` is that second, `03:00Z`
 * that minute, a date that day — because backups start at some millisecond
 * while times are shown and typed rounded (a key of an older version,
 * `20261120T030000Z`; a time copied without its milliseconds): such a time
 * must select the backup it was rounded from, not the one before. `latest` is the newest, `now` the newest at or
 * before this moment, and a key segment with its suffix
 * (`20261120T030000.123Z-k3f9q2`) that very backup.
 */
export function parseAtChoice(s: string, now: () => Date = () => new Date()): Choice {
  const t = s.trim();
  if (/^latest$/i.test(t)) return {};
  if (/^now$/i.test(t)) return { at: now() };
  if (parseBackupId(t)?.suffix !== undefined) return { key: t };
  const at = parseAt(t);
  return { at: new Date(at.getTime() + unitOf(t) - 1) };
}

/** The length in ms of the last unit a time is written to (1 for a date: parseAt already ends it). */
function unitOf(t: string): number {
  const basic = parseBackupId(t);
  if (basic) return basic.precisionMs;
  const m = /T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?/i.exec(t.replace(' ', 'T'));
  if (!m) return 1;
  if (m[3] === undefined) return 60_000;
  if (m[4] === undefined) return 1000;
  return 10 ** Math.max(0, 3 - m[4].length);
}

/**
 * `--at` values: ISO 8601 forms people type, all read as UTC unless they
 * carry an offset, because backup keys and manifests are UTC:
 *
 *   2026-11-20T03:00Z  2026-11-20T03:00:00Z  2026-11-20T04:00+01:00
 *   2026-11-20T03:00   (UTC)
 *   2026-11-20         (the END of that day, UTC: that day's backups count)
 *   20261120T030000Z   (the basic form of keys, to the second)
 *   20261120T030000.123Z (the basic form of keys, to the millisecond)
 */
export function parseAt(s: string): Date {
  const t = s.trim();
  const bad = () =>
    new UserError(
      `invalid --at ${JSON.stringify(s)}: expected an ISO 8601 time such as 2026-11-20T03:00Z or a date such as 2026-11-20`,
    );
  let iso: string;
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\.\d{3})?Z$/.exec(t))) {
    iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}Z`;
  } else if (/^\d{4}-\d{2}-\d{2}$/.test(t)) {
    iso = `${t}T23:59:59.999Z`;
  } else if (
    (m =
      /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)(Z|[+-]\d{2}:?\d{2})?$/i.exec(
        t,
      ))
  ) {
    const zone = m[3] === undefined ? 'Z' : m[3].toUpperCase();
    iso = `${m[1]}T${m[2]}${zone.length === 5 ? zone.slice(0, 3) + ':' + zone.slice(3) : zone}`;
  } else {
    throw bad();
  }
  const d = new Date(iso);
  // Date normalises 2026-02-31 into March: refuse instead.
  if (Number.isNaN(d.getTime()) || !sameCalendarDate(iso, d)) throw bad();
  return d;
}

function sameCalendarDate(iso: string, d: Date): boolean {
  if (!iso.endsWith('Z')) return true; // offsets shift the date; range checks done by Date
  return d.toISOString().slice(0, 10) === iso.slice(0, 10);
}

/**
 * The backup `restore` and `verify` act on, from a newest-first list:
 * `key` (the manifest key, its directory, or one of its objects' keys),
 * else the newest at or before `at`, else the newest.
 */
export function chooseBackup(
  list: readonly BackupEntry[],
  options: { at?: Date; key?: string } = {},
): BackupEntry {
  if (options.at && options.key) throw new UserError('give --at or --key, not both');
  if (options.key !== undefined) {
    const k = options.key.replace(/\/+$/, '');
    const found = list.filter((b) => keyNames(b, k));
    if (found.length === 0)
      throw new UserError(
        `no backup with key ${JSON.stringify(options.key)} (see snapkeeper list)`,
      );
    if (found.length > 1)
      throw new UserError(
        `key ${JSON.stringify(options.key)} matches ${found.length} backups ` +
          `(${found
            .slice(0, 3)
            .map((b) => b.manifestKey)
            .join(', ')}${found.length > 3 ? ', …' : ''}): give more of the key`,
      );
    return found[0]!;
  }
  if (list.length === 0)
    throw new UserError('no backup found (only backups with a manifest count)');
  // A backup whose delete did not finish is named by its key or not at all.
  const complete = list.filter((b) => !isIncomplete(b));
  if (complete.length === 0)
    throw new UserError(
      `no complete backup found: ${list.length} incomplete (a delete that did not finish; prune finishes it)`,
    );
  if (options.at === undefined) return complete[0]!;
  const at = options.at.getTime();
  const found = [...complete]
    .sort((a, b) => b.time.getTime() - a.time.getTime())
    .find((b) => b.time.getTime() <= at);
  if (!found) {
    const oldest = complete.reduce((o, b) => (b.time < o.time ? b : o));
    throw new UserError(
      `no backup at or before ${options.at.toISOString()}; the oldest is from ${oldest.time.toISOString()}`,
    );
  }
  return found;
}

/**
 * Whether `k` names backup `b`: its manifest key, its directory, one of its
 * objects' keys, or a trailing part of one of those that starts at a `/`
 * (`20261120T030000.123Z-k3f9q2`, `postgres/20261120T030000Z`).
 */
function keyNames(b: BackupEntry, k: string): boolean {
  if (k === '') return false;
  const dir = b.manifestKey.slice(0, Math.max(0, b.manifestKey.lastIndexOf('/')));
  const names = [b.manifestKey, dir, ...b.manifest.objects.map((o) => o.key)];
  return names.some((n) => n === k || n.endsWith('/' + k));
}

/**
 * The workload a location's backups belong to, when they all belong to one:
 * `restore` and `verify` need no `--workload` then. Several: a UserError
 * naming them. None: undefined (the caller reports that nothing is there).
 */
export function onlyWorkload(list: readonly BackupEntry[], where: string): string | undefined {
  const names = [...new Set(list.map((b) => b.workload))].sort();
  if (names.length > 1)
    throw new UserError(
      `${where} holds backups of ${names.length} workloads (${names.join(', ')}): choose one with --workload`,
    );
  return names[0];
}
