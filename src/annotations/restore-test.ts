/**
 * The three restore-test annotations (docs/operator.md, "The scheduled
 * restore test"): `restore-test`, a schedule like `schedule`, whose H tokens
 * are seeded with the workload key plus "#restore-test", so `@daily` for
 * both never starts the restore test in the very minute the backup starts;
 * `restore-test-checks`, SQL checks one per line; `restore-test-resources`.
 * Checks and resources without a restore-test schedule are ignored, with a
 * warning.
 */
import { ANNOTATION_PREFIX } from '../labels.js';
import { refused, resourcesRow, scheduleOf, type AnnotationRow } from './row.js';
import { SCHEDULE_ACCEPTED } from './schedule.js';

/** The most checks one workload may ask for, and the longest one (they travel as argv). */
export const MAX_RESTORE_TEST_CHECKS = 50;
export const MAX_RESTORE_TEST_CHECK_LENGTH = 4096;
export const RESTORE_TEST_CHECKS_ACCEPTED = `SQL queries whose first column must be true, one per line (blank lines ignored), at most ${MAX_RESTORE_TEST_CHECKS} of at most ${MAX_RESTORE_TEST_CHECK_LENGTH} characters, e.g. "select max(created_at) > now() - interval '2 days' from orders"`;

export const restoreTestRows: readonly AnnotationRow[] = [
  {
    name: 'restore-test',
    accepted: SCHEDULE_ACCEPTED,
    invalid: '@reboot',
    read(value, _key, r) {
      const s = scheduleOf(value, `${r.workloadKey}#restore-test`);
      if (!('ok' in s)) return s;
      r.draft.restoreTest.schedule = s.schedule;
      return undefined;
    },
  },
  {
    name: 'restore-test-checks',
    accepted: RESTORE_TEST_CHECKS_ACCEPTED,
    invalid: ' ',
    read(value, _key, r) {
      const lines = value
        .split(/\r?\n/)
        .map((l) => l.trim())
        .filter((l) => l !== '');
      const tooLong = lines.find((l) => l.length > MAX_RESTORE_TEST_CHECK_LENGTH);
      if (r.draft.type === 'elasticsearch') {
        return {
          what: 'is set, but checks run SQL and an elasticsearch restore test has no SQL server',
          accepted:
            'no restore-test-checks for type elasticsearch (its restore test checks the archive)',
        };
      }
      if (lines.length === 0) return refused('holds no check');
      if (lines.length > MAX_RESTORE_TEST_CHECKS) return refused(`holds ${lines.length} checks`);
      if (tooLong !== undefined) {
        return refused(`holds a check of ${tooLong.length} characters`);
      }
      if (lines.some((l) => /[\0]/.test(l))) return refused('holds a NUL character');
      r.draft.restoreTest.checks = lines;
      return undefined;
    },
  },
  {
    ...resourcesRow('restore-test-resources', 'gpu=1', (d, v) => (d.restoreTest.resources = v)),
    // The last of the three: checks and resources without a restore-test
    // schedule are ignored, with a warning.
    settle(r) {
      if (r.found('restore-test')) return;
      for (const name of ['restore-test-checks', 'restore-test-resources']) {
        const at = r.found(name);
        if (at) r.warn(`${at.key}: ignored without ${ANNOTATION_PREFIX}restore-test`);
      }
    },
  },
];
