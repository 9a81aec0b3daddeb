/**
 * The environment between the operator and its Jobs: every variable the
 * CronJob builders (src/desired/cronjob.ts, src/desired/restore-test.ts) set
 * on a container and the dumper image reads (src/dump/config.ts for `dump`,
 * src/storage/open.ts and src/restoretest/in-cluster.ts for `restore-test`).
 * One spelling of each name, here; docs/dump-environment.md describes them.
 *
 * The operator's own variables (the chart sets them, src/config/operator.ts
 * reads them) are another contract; some of them carry the same name because
 * the operator passes their value on (SNAPKEEPER_STORAGE,
 * SNAPKEEPER_KEY_TEMPLATE, SNAPKEEPER_S3_FORCE_PATH_STYLE).
 */
export const DUMPER_ENV = {
  /** The engine: postgresql, mysql, mariadb or elasticsearch. */
  type: 'SNAPKEEPER_TYPE',
  host: 'SNAPKEEPER_HOST',
  port: 'SNAPKEEPER_PORT',
  /** Credentials: only ever a secretKeyRef to the mirrored Secret. */
  username: 'SNAPKEEPER_USERNAME',
  password: 'SNAPKEEPER_PASSWORD',
  /** A comma list of databases, or `*`; literal, or the mirrored Secret's `database`. */
  databases: 'SNAPKEEPER_DATABASES',
  clientVersion: 'SNAPKEEPER_CLIENT_VERSION',
  /** Extra argv of the dump tool, a JSON array of strings. */
  dumpOptions: 'SNAPKEEPER_DUMP_OPTIONS',
  esLimit: 'SNAPKEEPER_ES_LIMIT',
  recipients: 'SNAPKEEPER_RECIPIENTS',
  /** Set only when it is not the dumper's default (gzip:6). */
  compression: 'SNAPKEEPER_COMPRESSION',
  retention: 'SNAPKEEPER_RETENTION',
  /** Read by the dumper with a default; the CronJob does not set it. */
  abortUploadsOlderThan: 'SNAPKEEPER_ABORT_UPLOADS_OLDER_THAN',
  /** Read by the dumper with a default; the CronJob does not set it. */
  shrinkThreshold: 'SNAPKEEPER_SHRINK_THRESHOLD',
  storage: 'SNAPKEEPER_STORAGE',
  keyTemplate: 'SNAPKEEPER_KEY_TEMPLATE',
  workloadNamespace: 'SNAPKEEPER_WORKLOAD_NAMESPACE',
  workloadKind: 'SNAPKEEPER_WORKLOAD_KIND',
  workloadName: 'SNAPKEEPER_WORKLOAD_NAME',
  s3ForcePathStyle: 'SNAPKEEPER_S3_FORCE_PATH_STYLE',
  /** Where the one-line result (or the restore-test report) goes. */
  terminationMessagePath: 'SNAPKEEPER_TERMINATION_MESSAGE_PATH',
  /** The AWS SDK's own names, set from the chart's S3 settings. */
  s3Endpoint: 'AWS_ENDPOINT_URL_S3',
  s3Region: 'AWS_REGION',
  /** Also the key of each in the chart's S3 credentials Secret. */
  s3AccessKeyId: 'AWS_ACCESS_KEY_ID',
  s3SecretAccessKey: 'AWS_SECRET_ACCESS_KEY',
} as const;

export type DumperEnvName = (typeof DUMPER_ENV)[keyof typeof DUMPER_ENV];

/**
 * The termination-message path: the container's terminationMessagePath, the
 * value of SNAPKEEPER_TERMINATION_MESSAGE_PATH on it, and where the dumper
 * writes when the variable is unset.
 */
export const TERMINATION_MESSAGE_PATH = '/dev/termination-log';
