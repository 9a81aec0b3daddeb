/** What parseAnnotations produces: the backup spec of a workload, and its inputs' shapes. */
import type { EngineType } from '../manifest.js';
import type { Compression } from '../pipeline/compression.js';
import type { DumperResources } from './resources.js';

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
