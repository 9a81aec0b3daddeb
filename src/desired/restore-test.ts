/**
 * The desired restore-test CronJob of a workload (the scheduled restore
 * test, DESIGN.md §2): beside the backup CronJob, in the control namespace,
 * it runs `snapkeeper restore-test` on the workload's newest backup with the
 * same dumper image. Built from the spec and the configuration only, like
 * desiredCronJob, and hashed the same way, so apply writes only on a real
 * difference.
 *
 * The restore test never talks to the source database: no credentials, no
 * mirrored Secret, only the storage variables. An encrypted backup is opened
 * with the age identity of the chart's restoreTest.identitySecret, mounted
 * read-only; its content is never part of this object.
 */
import type { V1CronJob, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { BackupSpec, DumperResources, RestoreTestSpec } from '../annotations/index.js';
import type { OperatorConfig } from '../config/operator.js';
import { DUMPER_ENV, TERMINATION_MESSAGE_PATH } from '../contract/dumper-env.js';
import type { WorkloadRef } from '../workload.js';
import { JOB_KIND_LABEL, RESTORE_TEST_JOB_KIND } from '../labels.js';
import { lockedDownPod, ownedCronJob, storageEnv } from './cronjob.js';
import { ownedLabels } from './labels.js';
import { objectName } from './names.js';

export const RESTORE_TEST_CONTAINER_NAME = 'restore-test';
/** Where the identity Secret is mounted; the file is `<dir>/<key>`. */
export const IDENTITY_MOUNT_PATH = '/var/run/snapkeeper/identity';
/** PostgreSQL's shared memory: the default /dev/shm of a container (64Mi) is too small. */
export const SHM_SIZE = '256Mi';
/** The /tmp emptyDir where neither the pod's nor the chart's resources name ephemeral-storage. */
export const DEFAULT_TMP_SIZE = '4Gi';

/**
 * `snapkeeper-<namespace>-<name>` shortened, then `-rt-<hash>`: a DNS label
 * of at most 52 characters, stable and unique per workload (the hash is the
 * backup CronJob's, of the full workload key), and never the backup
 * CronJob's name (that one ends in `-<hash>` right after the readable part).
 */
export function restoreTestObjectName(w: WorkloadRef): string {
  return objectName(w, '-rt-');
}

export interface DesiredRestoreTestInput {
  workload: WorkloadRef;
  /** The workload's spec; `restoreTest` must be set. */
  spec: BackupSpec & { restoreTest: RestoreTestSpec };
  config: OperatorConfig;
  /** The pod the spec was read from, "name" or "namespace/name": Events go there. */
  sourcePod: string;
}

/** The ephemeral-storage a restore-test pod asks for: it also sizes its /tmp. */
function tmpSize(resources: DumperResources, fallback: DumperResources): string {
  const of = (r: DumperResources) =>
    r.limits['ephemeral-storage'] ?? r.requests['ephemeral-storage'];
  return of(resources) ?? of(fallback) ?? DEFAULT_TMP_SIZE;
}

/** The restore-test container's argv (after the image's `node /app/dist/cli.js`). */
export function restoreTestArgs(
  w: WorkloadRef,
  checks: readonly string[],
  identityKey: string | undefined,
): string[] {
  const args = ['restore-test', '--workload', `${w.namespace}/${w.name}`, '--output', 'json'];
  for (const sql of checks) args.push('--check', sql);
  if (identityKey !== undefined) args.push('--identity', `${IDENTITY_MOUNT_PATH}/${identityKey}`);
  return args;
}

export function desiredRestoreTestCronJob(input: DesiredRestoreTestInput): V1CronJob {
  const { workload, spec, config } = input;
  const rt = spec.restoreTest;
  const name = restoreTestObjectName(workload);
  const labels = { ...ownedLabels(workload, spec.type), [JOB_KIND_LABEL]: RESTORE_TEST_JOB_KIND };
  const resources = rt.resources ?? config.restoreTest.resources;
  const identity = config.restoreTest.identitySecret;

  const volumes: V1Volume[] = [
    { name: 'tmp', emptyDir: { sizeLimit: tmpSize(resources, config.restoreTest.resources) } },
    { name: 'dshm', emptyDir: { medium: 'Memory', sizeLimit: SHM_SIZE } },
  ];
  const mounts: V1VolumeMount[] = [
    { name: 'tmp', mountPath: '/tmp' },
    { name: 'dshm', mountPath: '/dev/shm' },
  ];
  if (identity !== undefined) {
    volumes.push({
      name: 'identity',
      secret: {
        secretName: identity.name,
        items: [{ key: identity.key, path: identity.key }],
        defaultMode: 0o400,
      },
    });
    mounts.push({ name: 'identity', mountPath: IDENTITY_MOUNT_PATH, readOnly: true });
  }

  return ownedCronJob({
    name,
    labels,
    input,
    schedule: rt.schedule,
    // A failed restore test is a finding, not a hiccup to retry.
    backoffLimit: 0,
    activeDeadlineSeconds: config.restoreTest.activeDeadlineSeconds,
    podSpec: lockedDownPod(
      config,
      {
        name: RESTORE_TEST_CONTAINER_NAME,
        image: config.images[spec.type],
        args: restoreTestArgs(workload, rt.checks, identity?.key),
        env: [
          ...storageEnv(workload, config),
          { name: DUMPER_ENV.terminationMessagePath, value: TERMINATION_MESSAGE_PATH },
          { name: 'HOME', value: '/tmp' },
          { name: 'TMPDIR', value: '/tmp' },
        ],
        resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
        terminationMessagePolicy: 'File',
        volumeMounts: mounts,
      },
      volumes,
    ),
  });
}
