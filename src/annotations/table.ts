/**
 * Every snapkeeper.io/ annotation, one row each: its name, the ksnapshot
 * name it is also read from, what it accepts (the text after "accepted:" in
 * its InvalidAnnotation Warning), a value it refuses, and how it is read
 * into the draft spec. A new annotation is one row here (and its field in
 * BackupSpec); parseAnnotations (./index.ts) only walks the table.
 *
 * Rows are read in table order, and a row may use what the rows above it
 * read (dump-options and elasticsearch-limit look at the type). `settle`
 * runs after its row whether the annotation is set or not, for the rules
 * that combine several annotations with the chart's defaults. The row's
 * shape is in ./row.ts; the restore-test rows in ./restore-test.ts.
 */
import { z } from 'zod';
import { DEFAULT_ES_LIMIT } from '../../dumpers/elasticsearch/commands.js';
import { isAgeRecipient, isAgeSecret } from '../crypto/age-keys.js';
import { ANNOTATION_PREFIX } from '../labels.js';
import { engineTypes, type EngineType } from '../manifest.js';
import { COMPRESSION_ACCEPTED, parseCompression } from '../pipeline/compression.js';
import { reservedOptionIn } from './dump-options.js';
import { restoreTestRows } from './restore-test.js';
import { RETENTION_ACCEPTED, retentionProblem } from './retention.js';
import { refused, resourcesRow, scheduleOf, type AnnotationRow, type Draft } from './row.js';
import { SCHEDULE_ACCEPTED } from './schedule.js';
import { splitShellWords } from './shell-words.js';
import { timezoneProblem, TIMEZONE_ACCEPTED } from './timezone.js';

const ES_LIMIT_MAX = 10_000;

const BOOLEAN_ACCEPTED = '"true" or "false"';

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

/** A boolean annotation stored in `set`. */
function booleanRow(
  name: string,
  ksnapshot: string | undefined,
  set: (d: Draft, v: boolean) => void,
): AnnotationRow {
  return {
    name,
    ...(ksnapshot !== undefined ? { ksnapshot } : {}),
    accepted: BOOLEAN_ACCEPTED,
    invalid: 'on',
    read(value, _key, r) {
      const p = booleanSchema.safeParse(value);
      if (!p.success) return refused('is not a boolean');
      set(r.draft, p.data);
      return undefined;
    },
  };
}

export const annotationTable: readonly AnnotationRow[] = [
  {
    // Read by isTracked, before any parsing: a pod without it is not ours.
    name: 'enabled',
    ksnapshot: 'enabled',
    accepted: BOOLEAN_ACCEPTED,
    invalid: 'yes',
  },
  {
    name: 'type',
    ksnapshot: 'type',
    required: true,
    accepted: engineTypes.join(', '),
    invalid: 'oracle',
    read(value, _key, r) {
      const t = value.trim().toLowerCase();
      if (!(engineTypes as readonly string[]).includes(t)) return refused('is not a database type');
      r.draft.type = t as EngineType;
      return undefined;
    },
  },
  {
    name: 'schedule',
    ksnapshot: 'schedule',
    required: true,
    accepted: SCHEDULE_ACCEPTED,
    invalid: '0 3 * *',
    read(value, _key, r) {
      const s = scheduleOf(value, r.workloadKey);
      if (!('ok' in s)) return s;
      r.draft.schedule = s.schedule;
      return undefined;
    },
  },
  {
    name: 'timezone',
    ksnapshot: 'timezone',
    accepted: TIMEZONE_ACCEPTED,
    invalid: 'Mars/Olympus',
    read(value, _key, r) {
      const zone = value.trim();
      const problem = timezoneProblem(zone);
      if (problem !== undefined) {
        return refused(`is not an IANA time zone${problem ? ` (${problem})` : ''}`);
      }
      r.draft.timezone = zone;
      return undefined;
    },
  },
  {
    name: 'databases',
    accepted: 'a comma list of database names (no spaces or quotes), or * for all databases',
    invalid: 'app,,x',
    read(value, _key, r) {
      const v = value.trim();
      if (v === '*') {
        r.draft.databases = '*';
        return undefined;
      }
      const names = [...new Set(v.split(',').map((s) => s.trim()))];
      if (!names.every((n) => databaseName.safeParse(n).success)) {
        return refused('is not a list of database names');
      }
      r.draft.databases = names;
      return undefined;
    },
  },
  {
    name: 'version',
    ksnapshot: 'version',
    accepted: 'a major version like 16, 8 or 5.7',
    invalid: 'latest',
    read(value, _key, r) {
      const p = versionSchema.safeParse(value);
      if (!p.success) return refused('is not a version');
      r.draft.clientVersion = p.data;
      return undefined;
    },
  },
  {
    name: 'retention',
    accepted: RETENTION_ACCEPTED,
    invalid: 'keep-last=0',
    read(value, _key, r) {
      const v = value.trim();
      const problem = retentionProblem(v);
      if (problem !== undefined) return refused(`is not a retention policy (${problem})`);
      r.draft.retention = v;
      return undefined;
    },
  },
  {
    name: 'encryption-recipients',
    ksnapshot: 'encryption-recipient',
    accepted: 'age recipients (age1…, from age-keygen -y), comma separated',
    invalid: 'age1abc',
    read(value, _key, r) {
      const list = value.split(/[\s,]+/).filter((s) => s !== '');
      const wrong = list.filter((w) => !isAgeRecipient(w));
      if (list.length === 0) return refused('is empty');
      if (wrong.length > 0) {
        return {
          what: 'is not an age recipient',
          // A secret key pasted here must not travel on into an Event.
          value: wrong.map((w) => (isAgeSecret(w) ? 'AGE-SECRET-KEY-1…' : w)).join(','),
        };
      }
      r.draft.recipients = [...new Set(list)];
      return undefined;
    },
  },
  {
    ...booleanRow('encryption-enabled', 'encryption-enabled', (d, v) => (d.encryption = v)),
    // Setting recipients turns encryption on; an explicit "false" still wins.
    settle(r) {
      const d = r.draft;
      const recipientsAt = r.found('encryption-recipients');
      const encrypt = d.encryption ?? (recipientsAt ? true : r.defaults.encryption);
      d.recipients = encrypt ? (d.recipients ?? r.defaults.recipients) : [];
      if (encrypt && !recipientsAt && d.recipients.length === 0) {
        r.error(
          `${r.found('encryption-enabled')?.key ?? `${ANNOTATION_PREFIX}encryption-enabled`}: encryption is on but there is no recipient; accepted: set ${ANNOTATION_PREFIX}encryption-recipients (age1…), or ask for a chart default recipient`,
        );
      }
    },
  },
  {
    name: 'dump-options',
    accepted:
      'arguments for the dump tool, split like a shell would (quotes allowed, no newlines, no expansion)',
    invalid: "--x 'y",
    read(value, _key, r) {
      const s = splitShellWords(value);
      if (!s.ok) return refused(s.reason);
      const reserved = r.draft.type ? reservedOptionIn(r.draft.type, s.words) : undefined;
      if (reserved !== undefined) {
        return refused(
          `sets ${reserved.split('=')[0]}, which snapkeeper controls (output, connection and credentials)`,
        );
      }
      r.draft.dumpOptions = s.words;
      return undefined;
    },
  },
  {
    name: 'elasticsearch-limit',
    ksnapshot: 'elasticsearch-limit',
    accepted: `a whole number from 1 to ${ES_LIMIT_MAX}`,
    invalid: '0',
    read(value, key, r) {
      const type = r.draft.type;
      if (type !== undefined && type !== 'elasticsearch')
        r.warn(`${key}: ignored for type ${type}`);
      const v = value.trim();
      const n = /^\d{1,6}$/.test(v) ? Number(v) : NaN;
      if (!(n >= 1 && n <= ES_LIMIT_MAX)) return refused('is not a page size');
      r.draft.esLimit = n;
      return undefined;
    },
    settle(r) {
      if (r.draft.type === 'elasticsearch') r.draft.esLimit ??= DEFAULT_ES_LIMIT;
      else delete r.draft.esLimit;
    },
  },
  booleanRow('suspend', undefined, (d, v) => (d.suspend = v)),
  resourcesRow('resources', 'cpu=fast', (d, v) => (d.resources = v)),
  {
    name: 'compression',
    accepted: COMPRESSION_ACCEPTED,
    invalid: 'brotli',
    read(value, _key, r) {
      const p = parseCompression(value);
      if (!p.ok) return refused(`is not a compression (${p.reason})`);
      r.draft.compression = p.compression;
      return undefined;
    },
  },
  ...restoreTestRows,
];

export type { AnnotationRow } from './row.js';
