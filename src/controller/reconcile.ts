/**
 * One workload's reconcile, from the caches to its backup CronJob and the
 * mirrored credentials Secret (reconcileWorkload below). Its restore-test
 * CronJob is the next step (reconcile-restore-test.ts); a workload that is
 * gone goes to cleanup (cleanup.ts).
 */
import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { isTracked, parseAnnotations, type AnnotationDefaults } from '../annotations/index.js';
import { resolveCredentials } from '../discovery/credentials.js';
import { selectService } from '../discovery/service.js';
import { desiredCronJob } from '../desired/cronjob.js';
import { objectName } from '../desired/names.js';
import { desiredSecret as buildDesiredSecret } from '../desired/secret.js';
import { applyObject } from '../apply/apply.js';
import type { OperatorConfig } from '../config/operator.js';
import type { Logger } from '../log.js';
import { ANNOTATION_PREFIX, KSNAPSHOT_PREFIX } from '../labels.js';
import type { RefLookup } from '../discovery/credentials.js';
import type { KubeApi, V1PartialObjectMetadata } from '../kube/api.js';
import type { ObjectStore } from '../kube/informer.js';
import { EventReasons, type EventRecorder } from './events.js';
import { parseWorkloadKey } from '../workload.js';
import { blocked } from './apply-outcome.js';
import { cleanup, type Tombstones } from './cleanup.js';
import { reconcileRestoreTest } from './reconcile-restore-test.js';
import type { ReconcileOutcome } from './queue.js';

/** Why a tracked workload has (or has not) its CronJob; feeds snapkeeper_workloads{state}. */
export type WorkloadState =
  | 'scheduled'
  | 'suspended'
  | 'invalid'
  | 'no_service'
  | 'ambiguous_service'
  | 'missing_credentials';

export interface ReconcileDeps {
  config: OperatorConfig;
  api: Pick<KubeApi, 'read' | 'cronJobs' | 'secrets'>;
  /**
   * Live (not terminating) pods of a workload, from the pod cache: the
   * annotated ones, and those known to be the workload's whose annotation
   * was removed.
   */
  podsOf(key: string): V1Pod[];
  services: ObjectStore<V1Service>;
  /**
   * The Secrets and ConfigMaps the database container references (the
   * controller serves them from its caches and records what was followed).
   */
  refs: RefLookup;
  /** Owned CronJobs and mirrored Secrets, metadata only. */
  cronJobs: ObjectStore<V1PartialObjectMetadata>;
  secrets: ObjectStore<V1PartialObjectMetadata>;
  events: EventRecorder;
  log: Logger;
  /** Called with the outcome of each reconcile (undefined: not tracked any more). */
  setState(key: string, state: WorkloadState | undefined): void;
  /**
   * False while pods of the workload's namespace are still being resolved to
   * their workloads: "no pod" may then only mean "not indexed yet".
   */
  mayDelete(): boolean;
  /** Objects deleted here whose DELETED watch event may not have reached the caches yet. */
  deleted: Tombstones;
}

/** Only the snapkeeper settings of a pod, for comparing replicas. */
function settingsOf(pod: V1Pod): string {
  const a = pod.metadata?.annotations ?? {};
  return JSON.stringify(
    Object.keys(a)
      .filter((k) => k.startsWith(ANNOTATION_PREFIX) || k.startsWith(KSNAPSHOT_PREFIX))
      .sort()
      .map((k) => [k, a[k]]),
  );
}

const newestFirst = (a: V1Pod, b: V1Pod) => {
  const ta = a.metadata?.creationTimestamp ? new Date(a.metadata.creationTimestamp).getTime() : 0;
  const tb = b.metadata?.creationTimestamp ? new Date(b.metadata.creationTimestamp).getTime() : 0;
  return tb - ta || (b.metadata?.name ?? '').localeCompare(a.metadata?.name ?? '');
};

/**
 * One workload, from the caches to its desired CronJob and Secret:
 *
 *   pods, none annotated     → annotation removed: cleanup
 *   no pod at all            → cleanup only if the workload object is gone,
 *                              or its pod template is no longer annotated
 *   annotations invalid      → Warning per problem; last good CronJob untouched
 *   no / several Services    → Warning; last good CronJob untouched
 *   credentials missing      → Warning; last good CronJob untouched
 *   otherwise                → apply Secret, then CronJob; BackupScheduled on change
 *
 * "Untouched" is deliberate: a typo in an annotation, or a Service being
 * replaced, must not stop the backups that worked until then.
 */
export async function reconcileWorkload(key: string, d: ReconcileDeps): Promise<ReconcileOutcome> {
  const { config, log } = d;
  const w = parseWorkloadKey(key);
  if (!w) {
    // Keys come from workloadKey and ownerOf, which give only valid ones.
    log.warn('not a workload key; skipped', { workload: key });
    return;
  }
  const name = objectName(w);
  const live = d.podsOf(key);
  const pods = live.filter((p) => isTracked(p.metadata?.annotations));

  // Pods, none annotated: the annotation was removed. No pod at all: the
  // workload's own object decides (cleanup reads it).
  if (pods.length === 0) {
    return cleanup(key, w, name, d, live.length > 0 ? 'annotation removed' : undefined);
  }

  pods.sort(newestFirst);
  const pod = pods[0]!;
  const podRef = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const settings = settingsOf(pod);
  const disagreeing = pods.filter((p) => settingsOf(p) !== settings);
  if (disagreeing.length > 0) {
    await d.events.record(
      pod,
      'Warning',
      EventReasons.ConflictingAnnotations,
      `pods of ${w.kind} ${w.name} disagree on snapkeeper annotations ` +
        `(${disagreeing.map((p) => p.metadata?.name).join(', ')}); using those of the newest pod ${pod.metadata?.name}`,
    );
  }

  const defaults: AnnotationDefaults = {
    recipients: config.defaultRecipients,
    encryption: config.defaultEncryption,
    resources: config.defaultResources,
    ...(config.defaultRetention ? { retention: config.defaultRetention } : {}),
    ...(config.defaultCompression ? { compression: config.defaultCompression } : {}),
  };
  const parsed = parseAnnotations(pod.metadata?.annotations ?? {}, {
    workloadKey: key,
    defaults,
  });
  // Warnings never block: a misspelt key, both prefixes set differently, a
  // setting ignored for the type. Deduplicated like every Event, so a
  // steady state writes nothing.
  for (const warning of [...new Set(parsed.warnings)]) {
    await d.events.record(pod, 'Warning', EventReasons.AnnotationWarning, warning);
  }
  if (!parsed.ok) {
    d.setState(key, 'invalid');
    for (const e of [...new Set(parsed.errors)]) {
      await d.events.record(pod, 'Warning', EventReasons.InvalidAnnotation, e);
    }
    log.info('invalid annotations; existing CronJob left as it is', {
      workload: key,
      pod: podRef,
      problems: parsed.errors.length,
    });
    return;
  }
  const spec = parsed.spec;

  const services = d.services.list(w.namespace);
  const selected = selectService(pods, services, spec.type);
  if (!selected.ok) {
    d.setState(key, selected.reason === 'NoService' ? 'no_service' : 'ambiguous_service');
    await d.events.record(pod, 'Warning', selected.reason, selected.message);
    return;
  }

  const creds = await resolveCredentials(pod, spec.type, d.refs);
  if (!creds.ok) {
    d.setState(key, 'missing_credentials');
    await d.events.record(pod, 'Warning', EventReasons.MissingCredentials, creds.message);
    return;
  }

  const desiredSecret = buildDesiredSecret({
    workload: w,
    credentials: creds.credentials,
    config,
    type: spec.type,
  });
  const desiredCron = desiredCronJob({
    workload: w,
    spec,
    target: { host: selected.host, port: selected.port },
    credentials: {
      hasUsername: creds.credentials.username !== undefined,
      hasPassword: creds.credentials.password !== undefined,
      hasDatabase: creds.credentials.database !== undefined,
    },
    config,
    sourcePod: podRef,
  });
  const ns = config.controlNamespace;

  const secretResult = await applyObject(
    d.api.secrets,
    desiredSecret,
    d.secrets.get(ns, desiredSecret.metadata?.name ?? ''),
  );
  const stop = blocked(secretResult, key, log);
  if (stop) return stop;

  const cronResult = await applyObject(
    d.api.cronJobs,
    desiredCron,
    d.cronJobs.get(ns, desiredCron.metadata?.name ?? ''),
  );
  const stop2 = blocked(cronResult, key, log);
  if (stop2) return stop2;

  d.setState(key, spec.suspend ? 'suspended' : 'scheduled');
  if (cronResult.action === 'created' || cronResult.action === 'updated') {
    log.info(`CronJob ${cronResult.action}`, {
      workload: key,
      cronJob: `${ns}/${desiredCron.metadata?.name}`,
    });
    await d.events.record(
      pod,
      'Normal',
      EventReasons.BackupScheduled,
      `backup of ${w.kind} ${w.name} (${spec.type}) scheduled "${spec.schedule}" ${spec.timezone}` +
        `${spec.suspend ? ' (suspended)' : ''} as CronJob ${ns}/${desiredCron.metadata?.name}`,
    );
  } else if (secretResult.action === 'updated') {
    log.info('credentials Secret updated', {
      workload: key,
      secret: `${ns}/${desiredSecret.metadata?.name}`,
    });
  }
  return reconcileRestoreTest(key, w, spec, pod, podRef, d);
}
