/**
 * Every label and annotation name snapkeeper writes or reads on Kubernetes
 * objects, shared by the operator, the dumper and the CLI: the annotation
 * prefixes, the labels and annotations on the objects snapkeeper owns, the
 * status record on its CronJobs, and the names Kubernetes itself sets that
 * snapkeeper reads. The pod annotations users set (snapkeeper.io/schedule
 * and the rest) are the rows of src/annotations/. Only objects carrying
 * MANAGED_BY_LABEL=MANAGED_BY are ever updated or deleted by snapkeeper.
 */
export const ANNOTATION_PREFIX = 'snapkeeper.io/';
export const KSNAPSHOT_PREFIX = 'ksnapshot.clickandmortar.fr/';

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'snapkeeper';
/** The label selector of everything snapkeeper owns. */
export const MANAGED_SELECTOR = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

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

/** The pod the desired state was computed from: Events go there. "namespace/name". */
export const SOURCE_POD_ANNOTATION = 'snapkeeper.io/source-pod';

/**
 * The status record kept as annotations on a workload's CronJob (read and
 * written by src/status/annotations.ts).
 */
export const STATUS_ANNOTATIONS = {
  lastSuccess: `${ANNOTATION_PREFIX}last-success`,
  lastSize: `${ANNOTATION_PREFIX}last-size`,
  lastDuration: `${ANNOTATION_PREFIX}last-duration`,
  lastKey: `${ANNOTATION_PREFIX}last-key`,
  lastResult: `${ANNOTATION_PREFIX}last-result`,
  lastFailure: `${ANNOTATION_PREFIX}last-failure`,
  lastError: `${ANNOTATION_PREFIX}last-error`,
  lastJob: `${ANNOTATION_PREFIX}last-job`,
  runsSucceeded: `${ANNOTATION_PREFIX}runs-succeeded`,
  runsFailed: `${ANNOTATION_PREFIX}runs-failed`,
  /** Successful runs that shrank (BackupShrank): the source of snapkeeper_backup_shrank_total. */
  runsShrank: `${ANNOTATION_PREFIX}runs-shrank`,
  /** The BackupShrank sentence of the last success, when it shrank (absent otherwise). */
  lastShrank: `${ANNOTATION_PREFIX}last-shrank`,
  recordedJobs: `${ANNOTATION_PREFIX}recorded-jobs`,
} as const;

/**
 * What a snapkeeper CronJob (and the Jobs and pods it makes) runs: the label
 * is set to RESTORE_TEST_JOB_KIND on the scheduled restore test's CronJob,
 * its Job template and its pod template. Backup CronJobs carry no such label:
 * absent means backup (CronJobs written before the label existed included).
 */
export const JOB_KIND_LABEL = 'snapkeeper.io/job-kind';
export const RESTORE_TEST_JOB_KIND = 'restore-test';

/** Set by Kubernetes: the Deployment controller on its pods, the Job controller on its pods. */
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
export const JOB_CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
/** On a Job made from a CronJob by hand, as `kubectl create job --from=cronjob/...` sets it. */
export const CRONJOB_INSTANTIATE_ANNOTATION = 'cronjob.kubernetes.io/instantiate';

/** True for a CronJob or Job of the scheduled restore test (by its job-kind label). */
export function isRestoreTestObject(obj: {
  metadata?: { labels?: Record<string, string> };
}): boolean {
  return obj.metadata?.labels?.[JOB_KIND_LABEL] === RESTORE_TEST_JOB_KIND;
}
