/**
 * Storage keys from a template (the template, its default and its check:
 * src/contract/key-template.ts): rendering one, the backup identity that
 * {timestamp} renders, and the manifest and prefix a key belongs to.
 *
 * {timestamp} is the backup's identity, not only its time: the start in UTC
 * to the millisecond plus a random suffix, `20261120T030000.123Z-k3f9q2`.
 * Two runs of one workload in the same second (a manual trigger beside the
 * scheduled run, two replicas during a failover, a loop over databases with
 * one name) therefore never share a directory, and the identity still sorts
 * by time and reads as one. Keys written before it (`20261120T030000Z`)
 * remain readable: list and restore go by the manifest, not the key.
 */
import { randomBytes } from 'node:crypto';
import { checkKeyTemplate } from '../contract/key-template.js';
import { UserError } from '../errors.js';

export interface KeyValues {
  namespace: string;
  workload: string;
  kind: string;
  type: string;
  /** The backup's start. */
  time: Date;
  /** The random part of the backup's identity (randomSuffix()). */
  suffix: string;
  database: string;
  /** e.g. `sql.gz`, `sql.gz.age`, `dump.gz`, `tar.gz`. */
  ext: string;
}

export function validateKeyTemplate(template: string): string {
  const problems = checkKeyTemplate(template);
  if (problems.length > 0) {
    throw new UserError(`invalid key template ${JSON.stringify(template)}: ${problems.join('; ')}`);
  }
  return template;
}

/** `20261120T030000.123Z`: ISO 8601 basic format, UTC, to the millisecond. */
export function keyTimestamp(t: Date): string {
  return t.toISOString().replace(/[-:]/g, '');
}

/** Letters and digits that cannot be misread for one another (no 0/o, 1/l). */
const SUFFIX_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
export const SUFFIX_LENGTH = 6;

/** Six random characters: 30 bits, on top of the millisecond. */
export function randomSuffix(): string {
  return [...randomBytes(SUFFIX_LENGTH)].map((b) => SUFFIX_ALPHABET[b & 31]).join('');
}

/** What {timestamp} renders: `20261120T030000.123Z-k3f9q2`. */
export function backupId(time: Date, suffix: string): string {
  return `${keyTimestamp(time)}-${suffix}`;
}

/**
 * A backup identity (or the older, second-resolution key timestamp) read
 * back: the instant it names, how precise it is, and its suffix if any.
 * undefined when `s` is not one.
 */
export function parseBackupId(
  s: string,
): { time: Date; precisionMs: number; suffix?: string } | undefined {
  const m =
    /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.(\d{3}))?Z(?:-([a-z0-9]{1,32}))?$/.exec(s);
  if (!m) return undefined;
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.${m[7] ?? '000'}Z`;
  const time = new Date(iso);
  if (Number.isNaN(time.getTime()) || time.toISOString() !== iso) return undefined;
  const out: { time: Date; precisionMs: number; suffix?: string } = {
    time,
    precisionMs: m[7] === undefined ? 1000 : 1,
  };
  if (m[8] !== undefined) out.suffix = m[8];
  return out;
}

/**
 * A value as one safe key segment: letters (any script), digits, `.`, `_`,
 * `-` kept; anything else percent-encoded; `*` (all databases) is `all-databases`.
 */
export function keySegment(value: string): string {
  if (value === '*') return 'all-databases';
  const out = [...value]
    .map((ch) =>
      /[\p{L}\p{N}._-]/u.test(ch) ? ch : encodeURIComponent(ch).replace(/[!'()*]/g, hex),
    )
    .join('');
  if (out === '' || out === '.' || out === '..') return out.replace(/\./g, '%2E') || '%00';
  return out;
}

function hex(c: string): string {
  return '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
}

export function renderKey(template: string, v: KeyValues): string {
  const iso = v.time.toISOString();
  const values: Record<string, string> = {
    namespace: keySegment(v.namespace),
    workload: keySegment(v.workload),
    kind: keySegment(v.kind),
    type: keySegment(v.type),
    timestamp: backupId(v.time, v.suffix),
    YYYY: iso.slice(0, 4),
    MM: iso.slice(5, 7),
    DD: iso.slice(8, 10),
    hh: iso.slice(11, 13),
    mm: iso.slice(14, 16),
    ss: iso.slice(17, 19),
    database: keySegment(v.database),
    ext: v.ext,
  };
  return template.replace(/\{([^}]*)\}/g, (_m, name: string) => values[name] ?? `{${name}}`);
}

/** Where the manifest of the backup that `objectKey` belongs to goes. */
export function manifestKeyFor(objectKey: string, manifestName = 'manifest.json'): string {
  const slash = objectKey.lastIndexOf('/');
  return slash < 0 ? manifestName : `${objectKey.slice(0, slash)}/${manifestName}`;
}

const TIME_PLACEHOLDERS = ['{timestamp}', '{YYYY}', '{MM}', '{DD}', '{hh}', '{mm}', '{ss}'];

/**
 * The prefix that holds one workload's history: the template's directories
 * before the first time placeholder, rendered (`shop/postgres/` for the
 * default). '' when the template puts time first (a ksnapshot layout).
 */
export function workloadPrefix(
  template: string,
  v: Omit<KeyValues, 'time' | 'suffix' | 'database' | 'ext'>,
): string {
  const first = Math.min(
    ...TIME_PLACEHOLDERS.map((p) => template.indexOf(p)).filter((i) => i >= 0),
  );
  const head = template.slice(0, first);
  const dirs = head.slice(0, head.lastIndexOf('/') + 1);
  return renderKey(dirs, { ...v, time: new Date(0), suffix: '', database: '', ext: '' });
}
