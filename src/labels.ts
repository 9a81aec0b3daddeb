/**
 * Names shared by the operator, the dumper and the CLI: the annotation prefix,
 * and the labels and annotations snapkeeper puts on the objects it owns.
 * Only objects carrying MANAGED_BY_LABEL=MANAGED_BY are ever updated or
 * deleted by snapkeeper.
 */
export const ANNOTATION_PREFIX = 'snapkeeper.io/';
export const KSNAPSHOT_PREFIX = 'ksnapshot.clickandmortar.fr/';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'snapkeeper';

/** Labels that tie an owned CronJob / Secret / Job to its source workload. */
export const WORKLOAD_NAMESPACE_LABEL = 'snapkeeper.io/workload-namespace';
export const WORKLOAD_KIND_LABEL = 'snapkeeper.io/workload-kind';
export const WORKLOAD_NAME_LABEL = 'snapkeeper.io/workload-name';
export const ENGINE_LABEL = 'snapkeeper.io/type';
/**
 * The full workload key, "namespace/Kind/name", on every owned CronJob and
 * Secret. The name label is cut to 63 characters for long names; this
 * annotation is not, so an owned object always gives its workload back
 * (cleanup of orphans after a restart depends on it).
 */
export const WORKLOAD_ANNOTATION = 'snapkeeper.io/workload';

/** Hash of the desired spec, so apply writes only on a real difference. */
export const SPEC_HASH_ANNOTATION = 'snapkeeper.io/spec-hash';

/**
 * What a snapkeeper CronJob (and the Jobs and pods it makes) runs: the label
 * is set to RESTORE_TEST_JOB_KIND on the scheduled restore test's CronJob,
 * its Job template and its pod template. Backup CronJobs carry no such label:
 * absent means backup (CronJobs written before the label existed included).
 */
export const JOB_KIND_LABEL = 'snapkeeper.io/job-kind';
export const RESTORE_TEST_JOB_KIND = 'restore-test';

/** True for a CronJob or Job of the scheduled restore test (by its job-kind label). */
export function isRestoreTestObject(obj: {
  metadata?: { labels?: Record<string, string> };
}): boolean {
  return obj.metadata?.labels?.[JOB_KIND_LABEL] === RESTORE_TEST_JOB_KIND;
}
