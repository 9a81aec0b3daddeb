import { UserError } from '../errors.js';
import type { BackupEntry } from './list.js';

/**
 * `--at` values: ISO 8601 forms people type, all read as UTC unless they
 * carry an offset, because backup keys and manifests are UTC:
 *
 *   2026-11-20T03:00Z  2026-11-20T03:00:00Z  2026-11-20T04:00+01:00
 *   2026-11-20T03:00   (UTC)
 *   2026-11-20         (the END of that day, UTC: that day's backups count)
 *   20261120T030000Z   (the basic form used in keys)
 */
export function parseAt(s: string): Date {
  const t = s.trim();
  const bad = () =>
    new UserError(
      `invalid --at ${JSON.stringify(s)}: expected an ISO 8601 time such as 2026-11-20T03:00Z or a date such as 2026-11-20`,
    );
  let iso: string;
  let m: RegExpExecArray | null;
  if ((m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(t))) {
    iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`;
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
    const found = list.find(
      (b) =>
        b.manifestKey === k ||
        b.manifestKey === `${k}/manifest.json` ||
        b.manifest.objects.some((o) => o.key === k),
    );
    if (!found)
      throw new UserError(
        `no backup with key ${JSON.stringify(options.key)} (see snapkeeper list)`,
      );
    return found;
  }
  if (list.length === 0)
    throw new UserError('no backup found (only backups with a manifest count)');
  if (options.at === undefined) return list[0]!;
  const at = options.at.getTime();
  const found = [...list]
    .sort((a, b) => b.time.getTime() - a.time.getTime())
    .find((b) => b.time.getTime() <= at);
  if (!found) {
    const oldest = list.reduce((o, b) => (b.time < o.time ? b : o));
    throw new UserError(
      `no backup at or before ${options.at.toISOString()}; the oldest is from ${oldest.time.toISOString()}`,
    );
  }
  return found;
}
