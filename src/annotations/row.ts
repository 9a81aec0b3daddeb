/**
 * The shape of a row of the annotation table (./table.ts), and what a row
 * reads into and reports.
 */
import type { EngineType } from '../manifest.js';
import type { Compression } from '../pipeline/compression.js';
import { parseResources, RESOURCES_ACCEPTED, type DumperResources } from './resources.js';
import { resolveSchedule } from './schedule.js';
import type { AnnotationDefaults } from './spec.js';

/** What the rows read into; parseAnnotations turns it into a BackupSpec. */
export interface Draft {
  type?: EngineType;
  schedule?: string;
  timezone: string;
  databases?: string[] | '*';
  clientVersion?: string;
  retention?: string;
  /** The annotation's recipients; after encryption-enabled settles, the effective ones. */
  recipients?: string[];
  encryption?: boolean;
  dumpOptions: string[];
  esLimit?: number;
  suspend: boolean;
  resources?: DumperResources;
  compression?: Compression;
  restoreTest: { schedule?: string; checks: string[]; resources?: DumperResources };
}

/** A refused value: the Warning reads "<key>: <value> <what>; accepted: <accepted>". */
export interface Problem {
  what: string;
  /** The value as the Warning shows it, when not the value itself (a pasted secret key is masked). */
  value?: string;
  /** When not the row's own accepted text. */
  accepted?: string;
}

export interface Reading {
  readonly draft: Draft;
  readonly workloadKey: string;
  readonly defaults: AnnotationDefaults;
  /** The annotation as set on the pod (the key it was read from), or undefined. */
  found(name: string): { key: string; value: string } | undefined;
  /** A warning; the caller prefixes nothing, so the text names its key. */
  warn(text: string): void;
  /** An error that is not one refused value (it names its key itself). */
  error(text: string): void;
}

export interface AnnotationRow {
  /** snapkeeper.io/<name>. */
  name: string;
  /** ksnapshot.clickandmortar.fr/<ksnapshot>, read when the snapkeeper.io/ key is absent. */
  ksnapshot?: string;
  /** Absent is an error ("is required; accepted: …"). */
  required?: boolean;
  /** What the InvalidAnnotation Warning lists as accepted. */
  accepted: string;
  /** A value this annotation refuses (documents the row; the table's unit test checks it). */
  invalid: string;
  /** Reads a set value into the draft; returns why it is refused, if it is. */
  read?(value: string, key: string, r: Reading): Problem | undefined;
  /** Runs after the row, the annotation set or not. */
  settle?(r: Reading): void;
}

/** A value refused for `what`, with the row's own accepted text. */
export const refused = (what: string): Problem => ({ what });

/** A schedule (the backup's, or the restore test's with its own seed). */
export function scheduleOf(value: string, seed: string): { ok: true; schedule: string } | Problem {
  const r = resolveSchedule(value, seed);
  return r.ok ? r : refused(`is not a schedule (${r.reason})`);
}

/** A resource list (the resources syntax) stored in `set`. */
export function resourcesRow(
  name: string,
  invalid: string,
  set: (d: Draft, v: DumperResources) => void,
): AnnotationRow {
  return {
    name,
    accepted: RESOURCES_ACCEPTED,
    invalid,
    read(value, _key, r) {
      const p = parseResources(value);
      if (!p.ok) return refused(`is not a resource list (${p.reason})`);
      set(r.draft, p.resources);
      return undefined;
    },
  };
}
