import type { Manifest } from '../manifest.js';

/** One complete backup: a valid manifest and the objects it names. */
export interface BackupEntry {
  manifestKey: string;
  manifest: Manifest;
  /** When the dump started: the point in time the backup stands for (`--at` compares with it). */
  time: Date;
  /** `namespace/name` */
  workload: string;
  /** Stored bytes of all its objects. */
  bytes: number;
  /** A `keep.json` marker beside the manifest: retention never deletes it (src/backups/keep.ts). */
  kept?: boolean;
  /** A `restore-test.json` beside the manifest: `restore-test --store` tested it (src/restoretest/result.ts). */
  tested?: boolean;
  /**
   * Objects the manifest names that the listing did not find: a delete that
   * did not finish (objects go first, the manifest last). Such a backup is
   * listed as incomplete, never chosen by time, and `prune` finishes its
   * deletion. Absent or empty when not known (a backup read without a listing).
   */
  missing?: string[];
}
