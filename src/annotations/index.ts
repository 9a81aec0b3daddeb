/**
 * Pod annotations → a validated BackupSpec, or every reason it is not one.
 * parseAnnotations never throws: each error becomes one Warning Event on the
 * pod ("snapkeeper.io/<name>: <bad value> is not …; accepted: …"), and an
 * invalid set leaves the last good CronJob untouched.
 *
 * The ksnapshot.clickandmortar.fr/ keys of ClickAndMortar's ksnapshot are
 * read too; where both prefixes set a key the snapkeeper.io/ value wins, and
 * errors name the key whose value was actually used.
 */
import { z } from 'zod';
import { isAgeRecipient, isAgeSecret } from '../crypto/age.js';
import {
  COMPRESSION_ACCEPTED,
  parseCompression,
  type Compression,
} from '../pipeline/compression.js';
import { ANNOTATION_PREFIX, KSNAPSHOT_PREFIX } from '../labels.js';
import { engineTypes, type EngineType } from '../manifest.js';
import { parseResources, RESOURCES_ACCEPTED, type DumperResources } from './resources.js';
import { RETENTION_ACCEPTED, retentionProblem } from './retention.js';
import { resolveSchedule, SCHEDULE_ACCEPTED } from './schedule.js';
import { splitShellWords } from './shell-words.js';
import { timezoneProblem, TIMEZONE_ACCEPTED } from './timezone.js';

export type { DumperResources } from './resources.js';

export interface BackupSpec {
  type: EngineType;
  /** 5-field cron for the CronJob: H tokens and macros already resolved. */
  schedule: string;
  /** IANA zone, default Etc/UTC. */
  timezone: string;
  /** Absent: the database from the credentials. */
  databases?: string[] | '*';
  clientVersion?: string;
  retention?: string;
  /** Age recipients; empty means no encryption. */
  recipients: string[];
  /** Extra argv for the dump tool. */
  dumpOptions: string[];
  /** Elasticsearch page size (elasticsearch only). */
  esLimit?: number;
  suspend: boolean;
  resources?: DumperResources;
  /** Absent: the dumper's default, gzip:6. */
  compression?: Compression;
  /** The scheduled restore test (`restore-test`); absent: none. */
  restoreTest?: RestoreTestSpec;
}

/** The scheduled restore test of a workload (docs/operator.md, "The scheduled restore test"). */
export interface RestoreTestSpec {
  /** 5-field cron, H tokens resolved (seeded apart from the backup's: never the same minute). */
  schedule: string;
  /** The user's SQL checks, one per line of `restore-test-checks`, in order. */
  checks: string[];
  /** From `restore-test-resources`; absent: the chart's restoreTest.resources. */
  resources?: DumperResources;
}

export interface AnnotationDefaults {
  retention?: string;
  compression?: Compression;
  recipients: string[];
  encryption: boolean;
  resources?: DumperResources;
}

/**
 * Warnings (a misspelt snapkeeper.io/ key, both prefixes set to different
 * values, a setting ignored for the type) never block a backup; they come
 * with an invalid set too, where a misspelt key often explains the error.
 */
export type ParseResult =
  | { ok: true; spec: BackupSpec; warnings: string[] }
  | { ok: false; errors: string[]; warnings: string[] };

/** snapkeeper.io/ names, and the ksnapshot name each one is also read from. */
const known = {
  enabled: 'enabled',
  type: 'type',
  schedule: 'schedule',
  timezone: 'timezone',
  databases: undefined,
  version: 'version',
  retention: undefined,
  'encryption-recipients': 'encryption-recipient',
  'encryption-enabled': 'encryption-enabled',
  'dump-options': undefined,
  'elasticsearch-limit': 'elasticsearch-limit',
  suspend: undefined,
  resources: undefined,
  compression: undefined,
  'restore-test': undefined,
  'restore-test-checks': undefined,
  'restore-test-resources': undefined,
} as const satisfies Record<string, string | undefined>;
type Name = keyof typeof known;

/**
 * Annotations snapkeeper may itself read on a pod without them being
 * settings (none today); any other snapkeeper.io/ key is reported as a
 * probable typo.
 */
const ignoredKeys = new Set<string>();

const ES_LIMIT_DEFAULT = 1000;
const ES_LIMIT_MAX = 10_000;
const VALUE_SHOWN = 80;

/** Tracked: snapkeeper.io/enabled, else ksnapshot.clickandmortar.fr/enabled, is "true". */
export function isTracked(annotations: Record<string, string> | undefined): boolean {
  if (!annotations) return false;
  const value =
    annotations[`${ANNOTATION_PREFIX}enabled`] ?? annotations[`${KSNAPSHOT_PREFIX}enabled`];
  return typeof value === 'string' && value.trim().toLowerCase() === 'true';
}

const booleanSchema = z
  .string()
  .trim()
  .toLowerCase()
  .pipe(z.enum(['true', 'false']))
  .transform((s) => s === 'true');

const versionSchema = z
  .string()
  .trim()
  .regex(/^\d{1,3}(\.\d{1,3})?$/);

const databaseName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[^\s,*'"`;\\]+$/);

export function parseAnnotations(
  annotations: Record<string, string>,
  ctx: { workloadKey: string; defaults: AnnotationDefaults },
): ParseResult {
  try {
    return parse(annotations ?? {}, ctx);
  } catch (err) {
    // Not expected: every branch below validates before use. Kept so a bug
    // here becomes an Event instead of a crashed reconcile.
    return {
      ok: false,
      errors: [`${ANNOTATION_PREFIX}*: internal error while reading annotations: ${String(err)}`],
      warnings: [],
    };
  }
}

function parse(
  annotations: Record<string, string>,
  ctx: { workloadKey: string; defaults: AnnotationDefaults },
): ParseResult {
  const errors: string[] = [];
  const warnings: string[] = [];

  const get = (name: Name): { key: string; value: string } | undefined => {
    const own = `${ANNOTATION_PREFIX}${name}`;
    const legacyName = known[name];
    const legacy = legacyName === undefined ? undefined : `${KSNAPSHOT_PREFIX}${legacyName}`;
    const ownValue = stringAt(annotations, own);
    const legacyValue = legacy === undefined ? undefined : stringAt(annotations, legacy);
    if (ownValue !== undefined) {
      if (legacyValue !== undefined && legacyValue !== ownValue) {
        warnings.push(
          `${own}: overrides ${legacy} (${show(legacyValue)}); using ${show(ownValue)}`,
        );
      }
      return { key: own, value: ownValue };
    }
    if (legacy !== undefined && legacyValue !== undefined)
      return { key: legacy, value: legacyValue };
    return undefined;
  };
  const bad = (at: { key: string; value: string }, what: string, accepted: string) =>
    errors.push(`${at.key}: ${show(at.value)} ${what}; accepted: ${accepted}`);
  const missing = (name: Name, accepted: string) =>
    errors.push(`${ANNOTATION_PREFIX}${name}: is required; accepted: ${accepted}`);

  for (const key of Object.keys(annotations)) {
    if (!key.startsWith(ANNOTATION_PREFIX) || ignoredKeys.has(key)) continue;
    const name = key.slice(ANNOTATION_PREFIX.length);
    if (!Object.hasOwn(known, name)) {
      warnings.push(`${key}: unknown annotation, ignored; known: ${Object.keys(known).join(', ')}`);
    }
  }

  // type
  const TYPE_ACCEPTED = engineTypes.join(', ');
  let type: EngineType | undefined;
  const typeAt = get('type');
  if (!typeAt) missing('type', TYPE_ACCEPTED);
  else {
    const t = typeAt.value.trim().toLowerCase();
    if ((engineTypes as readonly string[]).includes(t)) type = t as EngineType;
    else bad(typeAt, 'is not a database type', TYPE_ACCEPTED);
  }

  // schedule
  let schedule: string | undefined;
  const scheduleAt = get('schedule');
  if (!scheduleAt) missing('schedule', SCHEDULE_ACCEPTED);
  else {
    const r = resolveSchedule(scheduleAt.value, ctx.workloadKey);
    if (r.ok) schedule = r.schedule;
    else bad(scheduleAt, `is not a schedule (${r.reason})`, SCHEDULE_ACCEPTED);
  }

  // timezone
  let timezone = 'Etc/UTC';
  const tzAt = get('timezone');
  if (tzAt) {
    const problem = timezoneProblem(tzAt.value.trim());
    if (problem === undefined) timezone = tzAt.value.trim();
    else bad(tzAt, `is not an IANA time zone${problem ? ` (${problem})` : ''}`, TIMEZONE_ACCEPTED);
  }

  // databases
  let databases: string[] | '*' | undefined;
  const dbAt = get('databases');
  const DB_ACCEPTED =
    'a comma list of database names (no spaces or quotes), or * for all databases';
  if (dbAt) {
    const v = dbAt.value.trim();
    if (v === '*') databases = '*';
    else {
      const names = [...new Set(v.split(',').map((s) => s.trim()))];
      if (names.every((n) => databaseName.safeParse(n).success)) databases = names;
      else bad(dbAt, 'is not a list of database names', DB_ACCEPTED);
    }
  }

  // version
  let clientVersion: string | undefined;
  const versionAt = get('version');
  if (versionAt) {
    const r = versionSchema.safeParse(versionAt.value);
    if (r.success) clientVersion = r.data;
    else bad(versionAt, 'is not a version', 'a major version like 16, 8 or 5.7');
  }

  // retention
  let retention = ctx.defaults.retention;
  const retentionAt = get('retention');
  if (retentionAt) {
    const v = retentionAt.value.trim();
    const problem = retentionProblem(v);
    if (problem === undefined) retention = v;
    else bad(retentionAt, `is not a retention policy (${problem})`, RETENTION_ACCEPTED);
  }

  // encryption
  const RECIPIENTS_ACCEPTED = 'age recipients (age1…, from age-keygen -y), comma separated';
  let recipients: string[] | undefined;
  const recipientsAt = get('encryption-recipients');
  if (recipientsAt) {
    const list = recipientsAt.value.split(/[\s,]+/).filter((s) => s !== '');
    const wrong = list.filter((r) => !isAgeRecipient(r));
    if (list.length === 0) bad(recipientsAt, 'is empty', RECIPIENTS_ACCEPTED);
    else if (wrong.length > 0) {
      bad(
        // A secret key pasted here must not travel on into an Event.
        {
          key: recipientsAt.key,
          value: wrong.map((w) => (isAgeSecret(w) ? 'AGE-SECRET-KEY-1…' : w)).join(','),
        },
        `is not an age recipient`,
        RECIPIENTS_ACCEPTED,
      );
    } else recipients = [...new Set(list)];
  }
  let encryption: boolean | undefined;
  const encAt = get('encryption-enabled');
  if (encAt) {
    const r = booleanSchema.safeParse(encAt.value);
    if (r.success) encryption = r.data;
    else bad(encAt, 'is not a boolean', '"true" or "false"');
  }
  // Setting recipients turns encryption on; an explicit "false" still wins.
  const encrypt = encryption ?? (recipientsAt ? true : ctx.defaults.encryption);
  const effectiveRecipients = encrypt ? (recipients ?? ctx.defaults.recipients) : [];
  if (encrypt && !recipientsAt && effectiveRecipients.length === 0) {
    errors.push(
      `${encAt?.key ?? `${ANNOTATION_PREFIX}encryption-enabled`}: encryption is on but there is no recipient; accepted: set ${ANNOTATION_PREFIX}encryption-recipients (age1…), or ask for a chart default recipient`,
    );
  }

  // dump-options
  let dumpOptions: string[] = [];
  const optionsAt = get('dump-options');
  const OPTIONS_ACCEPTED =
    'arguments for the dump tool, split like a shell would (quotes allowed, no newlines, no expansion)';
  if (optionsAt) {
    const r = splitShellWords(optionsAt.value);
    if (!r.ok) bad(optionsAt, r.reason, OPTIONS_ACCEPTED);
    else {
      const reserved = type ? r.words.find((w) => isReservedOption(type!, w)) : undefined;
      if (reserved !== undefined) {
        bad(
          optionsAt,
          `sets ${reserved.split('=')[0]}, which snapkeeper controls (output, connection and credentials)`,
          OPTIONS_ACCEPTED,
        );
      } else dumpOptions = r.words;
    }
  }

  // elasticsearch-limit
  let esLimit: number | undefined;
  const limitAt = get('elasticsearch-limit');
  if (limitAt) {
    const v = limitAt.value.trim();
    const n = /^\d{1,6}$/.test(v) ? Number(v) : NaN;
    if (n >= 1 && n <= ES_LIMIT_MAX) esLimit = n;
    else bad(limitAt, 'is not a page size', `a whole number from 1 to ${ES_LIMIT_MAX}`);
    if (type !== undefined && type !== 'elasticsearch') {
      warnings.push(`${limitAt.key}: ignored for type ${type}`);
    }
  }

  // suspend
  let suspend = false;
  const suspendAt = get('suspend');
  if (suspendAt) {
    const r = booleanSchema.safeParse(suspendAt.value);
    if (r.success) suspend = r.data;
    else bad(suspendAt, 'is not a boolean', '"true" or "false"');
  }

  // resources
  let resources = ctx.defaults.resources;
  const resourcesAt = get('resources');
  if (resourcesAt) {
    const r = parseResources(resourcesAt.value);
    if (r.ok) resources = r.resources;
    else bad(resourcesAt, `is not a resource list (${r.reason})`, RESOURCES_ACCEPTED);
  }

  // compression
  let compression = ctx.defaults.compression;
  const compressionAt = get('compression');
  if (compressionAt) {
    const r = parseCompression(compressionAt.value);
    if (r.ok) compression = r.compression;
    else bad(compressionAt, `is not a compression (${r.reason})`, COMPRESSION_ACCEPTED);
  }

  const restoreTest = parseRestoreTest(get, bad, warnings, type, ctx.workloadKey);

  if (errors.length > 0 || type === undefined || schedule === undefined) {
    return { ok: false, errors, warnings };
  }
  const spec: BackupSpec = {
    type,
    schedule,
    timezone,
    recipients: effectiveRecipients,
    dumpOptions,
    suspend,
  };
  if (databases !== undefined) spec.databases = databases;
  if (clientVersion !== undefined) spec.clientVersion = clientVersion;
  if (retention !== undefined) spec.retention = retention;
  if (type === 'elasticsearch') spec.esLimit = esLimit ?? ES_LIMIT_DEFAULT;
  if (resources !== undefined) spec.resources = resources;
  if (compression !== undefined) spec.compression = compression;
  if (restoreTest !== undefined) spec.restoreTest = restoreTest;
  return { ok: true, spec, warnings };
}

/** The most checks one workload may ask for, and the longest one (they travel as argv). */
export const MAX_RESTORE_TEST_CHECKS = 50;
export const MAX_RESTORE_TEST_CHECK_LENGTH = 4096;
export const RESTORE_TEST_CHECKS_ACCEPTED = `SQL queries whose first column must be true, one per line (blank lines ignored), at most ${MAX_RESTORE_TEST_CHECKS} of at most ${MAX_RESTORE_TEST_CHECK_LENGTH} characters, e.g. "select max(created_at) > now() - interval '2 days' from orders"`;

/**
 * The three restore-test annotations. `restore-test` is a schedule like
 * `schedule`; its H tokens are seeded with the workload key plus
 * "#restore-test", so `@daily` for both never starts the restore test in the
 * very minute the backup starts. Checks and resources without a restore-test
 * schedule are ignored, with a warning.
 */
function parseRestoreTest(
  get: (name: Name) => { key: string; value: string } | undefined,
  bad: (at: { key: string; value: string }, what: string, accepted: string) => void,
  warnings: string[],
  type: EngineType | undefined,
  workloadKey: string,
): RestoreTestSpec | undefined {
  const scheduleAt = get('restore-test');
  const checksAt = get('restore-test-checks');
  const resourcesAt = get('restore-test-resources');
  let ok = true;

  let schedule: string | undefined;
  if (scheduleAt) {
    const r = resolveSchedule(scheduleAt.value, `${workloadKey}#restore-test`);
    if (r.ok) schedule = r.schedule;
    else {
      ok = false;
      bad(scheduleAt, `is not a schedule (${r.reason})`, SCHEDULE_ACCEPTED);
    }
  }

  let checks: string[] = [];
  if (checksAt) {
    const lines = checksAt.value
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l !== '');
    const tooLong = lines.find((l) => l.length > MAX_RESTORE_TEST_CHECK_LENGTH);
    if (type === 'elasticsearch') {
      ok = false;
      bad(
        checksAt,
        'is set, but checks run SQL and an elasticsearch restore test has no SQL server',
        'no restore-test-checks for type elasticsearch (its restore test checks the archive)',
      );
    } else if (lines.length === 0) {
      ok = false;
      bad(checksAt, 'holds no check', RESTORE_TEST_CHECKS_ACCEPTED);
    } else if (lines.length > MAX_RESTORE_TEST_CHECKS) {
      ok = false;
      bad(checksAt, `holds ${lines.length} checks`, RESTORE_TEST_CHECKS_ACCEPTED);
    } else if (tooLong !== undefined) {
      ok = false;
      bad(checksAt, `holds a check of ${tooLong.length} characters`, RESTORE_TEST_CHECKS_ACCEPTED);
    } else if (lines.some((l) => /[\0]/.test(l))) {
      ok = false;
      bad(checksAt, 'holds a NUL character', RESTORE_TEST_CHECKS_ACCEPTED);
    } else checks = lines;
  }

  let resources: DumperResources | undefined;
  if (resourcesAt) {
    const r = parseResources(resourcesAt.value);
    if (r.ok) resources = r.resources;
    else {
      ok = false;
      bad(resourcesAt, `is not a resource list (${r.reason})`, RESOURCES_ACCEPTED);
    }
  }

  if (!scheduleAt) {
    for (const at of [checksAt, resourcesAt]) {
      if (at) warnings.push(`${at.key}: ignored without ${ANNOTATION_PREFIX}restore-test`);
    }
    return undefined;
  }
  if (!ok || schedule === undefined) return undefined;
  return { schedule, checks, ...(resources !== undefined ? { resources } : {}) };
}

/**
 * Options the dumper sets itself: where the output goes, where to connect,
 * who to be. Letting an annotation override them would send the dump
 * elsewhere or put a password into the CronJob spec.
 */
const MYSQL_RESERVED_OPTIONS = [
  '-r',
  '--result-file',
  '-h',
  '--host',
  '-P',
  '--port',
  '-u',
  '--user',
  '-p',
  '--password',
  '--defaults-file',
  '--defaults-extra-file',
];
const reservedOptions: Record<EngineType, readonly string[]> = {
  postgresql: [
    '-f',
    '--file',
    '-h',
    '--host',
    '-p',
    '--port',
    '-U',
    '--username',
    '-W',
    '--password',
    '-d',
    '--dbname',
  ],
  mysql: MYSQL_RESERVED_OPTIONS,
  mariadb: MYSQL_RESERVED_OPTIONS,
  elasticsearch: ['--input', '--output', '--httpAuthFile'],
};

function isReservedOption(type: EngineType, word: string): boolean {
  return reservedOptions[type].some((o) =>
    o.startsWith('--')
      ? word === o || word.startsWith(`${o}=`)
      : word === o || (word.startsWith(o) && word.length > 2 && !word.startsWith('--')),
  );
}

function stringAt(annotations: Record<string, string>, key: string): string | undefined {
  if (!Object.hasOwn(annotations, key)) return undefined;
  const v: unknown = annotations[key];
  return typeof v === 'string' ? v : undefined;
}

/** A value as it appears in a message: quoted, single line, bounded. */
function show(value: string): string {
  const flat = value.replace(/[\r\n\0]/g, ' ');
  return JSON.stringify(flat.length > VALUE_SHOWN ? `${flat.slice(0, VALUE_SHOWN)}…` : flat);
}
