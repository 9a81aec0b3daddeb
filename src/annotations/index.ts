/**
 * Pod annotations → a validated BackupSpec, or every reason it is not one.
 * parseAnnotations never throws: each error becomes one Warning Event on the
 * pod ("snapkeeper.io/<name>: <bad value> is not …; accepted: …"), and an
 * invalid set leaves the last good CronJob untouched.
 *
 * The annotations themselves are the rows of ./table.ts; this module walks
 * them. The ksnapshot.clickandmortar.fr/ keys of ClickAndMortar's ksnapshot
 * are read too; where both prefixes set a key the snapkeeper.io/ value wins,
 * and errors name the key whose value was actually used.
 */
import { ANNOTATION_PREFIX, KSNAPSHOT_PREFIX } from '../labels.js';
import type { AnnotationDefaults, BackupSpec, ParseResult } from './spec.js';
import type { AnnotationRow, Draft, Reading } from './row.js';
import { annotationTable } from './table.js';

export type { DumperResources } from './resources.js';
export type { AnnotationDefaults, BackupSpec, ParseResult, RestoreTestSpec } from './spec.js';
export {
  MAX_RESTORE_TEST_CHECK_LENGTH,
  MAX_RESTORE_TEST_CHECKS,
  RESTORE_TEST_CHECKS_ACCEPTED,
} from './restore-test.js';

const rows = new Map(annotationTable.map((row) => [row.name, row]));

/**
 * Annotations snapkeeper may itself read on a pod without them being
 * settings (none today); any other snapkeeper.io/ key is reported as a
 * probable typo.
 */
const ignoredKeys = new Set<string>();

const VALUE_SHOWN = 80;

/** Tracked: snapkeeper.io/enabled, else ksnapshot.clickandmortar.fr/enabled, is "true". */
export function isTracked(annotations: Record<string, string> | undefined): boolean {
  if (!annotations) return false;
  const value =
    annotations[`${ANNOTATION_PREFIX}enabled`] ?? annotations[`${KSNAPSHOT_PREFIX}enabled`];
  return typeof value === 'string' && value.trim().toLowerCase() === 'true';
}

export function parseAnnotations(
  annotations: Record<string, string>,
  ctx: { workloadKey: string; defaults: AnnotationDefaults },
): ParseResult {
  try {
    return parse(annotations ?? {}, ctx);
  } catch (err) {
    // Not expected: every row validates before use. Kept so a bug there
    // becomes an Event instead of a crashed reconcile.
    return {
      ok: false,
      errors: [`${ANNOTATION_PREFIX}*: internal error while reading annotations: ${String(err)}`],
      warnings: [],
    };
  }
}

/** The key and value a row reads: its snapkeeper.io/ key, else its ksnapshot one. */
interface Found {
  key: string;
  value: string;
  /** The ksnapshot key and value it overrides, when both are set and differ. */
  overrides?: { key: string; value: string };
}

function lookup(annotations: Record<string, string>, row: AnnotationRow): Found | undefined {
  const own = `${ANNOTATION_PREFIX}${row.name}`;
  const legacy = row.ksnapshot === undefined ? undefined : `${KSNAPSHOT_PREFIX}${row.ksnapshot}`;
  const ownValue = stringAt(annotations, own);
  const legacyValue = legacy === undefined ? undefined : stringAt(annotations, legacy);
  if (ownValue !== undefined) {
    return legacy !== undefined && legacyValue !== undefined && legacyValue !== ownValue
      ? { key: own, value: ownValue, overrides: { key: legacy, value: legacyValue } }
      : { key: own, value: ownValue };
  }
  if (legacy !== undefined && legacyValue !== undefined) return { key: legacy, value: legacyValue };
  return undefined;
}

function parse(
  annotations: Record<string, string>,
  ctx: { workloadKey: string; defaults: AnnotationDefaults },
): ParseResult {
  const errors: string[] = [];
  const warnings: string[] = [];

  for (const key of Object.keys(annotations)) {
    if (!key.startsWith(ANNOTATION_PREFIX) || ignoredKeys.has(key)) continue;
    if (!rows.has(key.slice(ANNOTATION_PREFIX.length))) {
      warnings.push(`${key}: unknown annotation, ignored; known: ${[...rows.keys()].join(', ')}`);
    }
  }

  const draft: Draft = {
    timezone: 'Etc/UTC',
    dumpOptions: [],
    suspend: false,
    retention: ctx.defaults.retention,
    resources: ctx.defaults.resources,
    compression: ctx.defaults.compression,
    restoreTest: { checks: [] },
  };
  const reading: Reading = {
    draft,
    workloadKey: ctx.workloadKey,
    defaults: ctx.defaults,
    found: (name) => {
      const row = rows.get(name);
      return row && lookup(annotations, row);
    },
    warn: (text) => warnings.push(text),
    error: (text) => errors.push(text),
  };

  for (const row of annotationTable) {
    // A row without read (enabled) is not looked up: isTracked read it.
    const at = row.read && lookup(annotations, row);
    if (at?.overrides) {
      warnings.push(
        `${at.key}: overrides ${at.overrides.key} (${show(at.overrides.value)}); using ${show(at.value)}`,
      );
    }
    if (at) {
      const problem = row.read!(at.value, at.key, reading);
      if (problem) {
        errors.push(
          `${at.key}: ${show(problem.value ?? at.value)} ${problem.what}; accepted: ${problem.accepted ?? row.accepted}`,
        );
      }
    } else if (row.required) {
      errors.push(`${ANNOTATION_PREFIX}${row.name}: is required; accepted: ${row.accepted}`);
    }
    row.settle?.(reading);
  }

  const { type, schedule } = draft;
  if (errors.length > 0 || type === undefined || schedule === undefined) {
    return { ok: false, errors, warnings };
  }
  const spec: BackupSpec = {
    type,
    schedule,
    timezone: draft.timezone,
    recipients: draft.recipients ?? [],
    dumpOptions: draft.dumpOptions,
    suspend: draft.suspend,
  };
  if (draft.databases !== undefined) spec.databases = draft.databases;
  if (draft.clientVersion !== undefined) spec.clientVersion = draft.clientVersion;
  if (draft.retention !== undefined) spec.retention = draft.retention;
  if (draft.esLimit !== undefined) spec.esLimit = draft.esLimit;
  if (draft.resources !== undefined) spec.resources = draft.resources;
  if (draft.compression !== undefined) spec.compression = draft.compression;
  const rt = draft.restoreTest;
  if (rt.schedule !== undefined) {
    spec.restoreTest = {
      schedule: rt.schedule,
      checks: rt.checks,
      ...(rt.resources !== undefined ? { resources: rt.resources } : {}),
    };
  }
  return { ok: true, spec, warnings };
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
