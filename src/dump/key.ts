/**
 * Storage keys from a template. Default:
 *
 *   {namespace}/{workload}/{timestamp}/{database}.{ext}
 *
 * Placeholders: {namespace} {workload} {kind} {type} {timestamp}
 * ({YYYY}{MM}{DD}{hh}{mm}{ss} of the same instant, UTC) {database} {ext}.
 * A ksnapshot-like layout is `{YYYY}/{MM}/{DD}/{type}/{namespace}-{workload}/{timestamp}/{database}.{ext}`.
 *
 * {timestamp} is the backup's identity, not only its time: the start in UTC
 * to the millisecond plus a random suffix, `20261120T030000.123Z-k3f9q2`.
 * Two runs of one workload in the same second (a manual trigger beside the
 * scheduled run, two replicas during a failover, a loop over databases with
 * one name) therefore never share a directory, and the identity still sorts
 * by time and reads as one. Keys written before it (`20261120T030000Z`)
 * remain readable: list and restore go by the manifest, not the key.
 *
 * One backup is one directory: every object of a run and its manifest.json
 * share the directory part of the key, so the directory part must contain
 * {timestamp} and neither {database} nor {ext}, and the file part must
 * contain both.
 *
 * This module is the one definition of the template and its check: the
 * operator (src/config/operator.ts) and the dumper (src/dump/config.ts,
 * `backup --key-template`) both use checkKeyTemplate.
 */
import { randomBytes } from 'node:crypto';
import { UserError } from '../errors.js';

export const DEFAULT_KEY_TEMPLATE = '{namespace}/{workload}/{timestamp}/{database}.{ext}';

/** Every placeholder a template may use, without braces. */
export const KEY_PLACEHOLDERS: readonly string[] = [
  'namespace',
  'workload',
  'kind',
  'type',
  'timestamp',
  'YYYY',
  'MM',
  'DD',
  'hh',
  'mm',
  'ss',
  'database',
  'ext',
];
const PLACEHOLDERS = new Set(KEY_PLACEHOLDERS);

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

/**
 * Problems with a template, one string each; [] when it is usable: every key
 * it renders is a valid storage key (src/storage/errors.ts checkKey), one
 * directory per backup.
 */
export function checkKeyTemplate(template: string): string[] {
  const problems: string[] = [];
  if (template.trim() === '') return ['is empty'];
  for (const m of template.matchAll(/\{([^}]*)\}/g)) {
    if (!PLACEHOLDERS.has(m[1]!)) problems.push(`unknown placeholder {${m[1]}}`);
  }
  if (/^\/|\/$|\/\//.test(template)) problems.push('no leading, trailing or double "/"');
  if (template.split('/').some((s) => s === '.' || s === '..'))
    problems.push('no "." or ".." path segment');
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(template)) problems.push('no backslash or control character');
  const slash = template.lastIndexOf('/');
  const dir = slash < 0 ? '' : template.slice(0, slash);
  const file = template.slice(slash + 1);
  if (!dir.includes('{timestamp}'))
    problems.push('the directory part must contain {timestamp} (one directory per backup)');
  for (const p of ['{database}', '{ext}']) {
    if (!file.includes(p)) problems.push(`the file name part must contain ${p}`);
    if (dir.includes(p)) problems.push(`${p} may only appear in the file name part`);
  }
  return [...new Set(problems)];
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
