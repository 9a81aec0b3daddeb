/**
 * Is a workload gone? Asked when it has no pod at all: a pod restart, a
 * node drain, a `rollout restart`, a Deployment with `strategy: Recreate` or
 * a scale to zero all leave a workload without pods for a while, and none of
 * them is a reason to delete its CronJob, its Secret, its running backup or
 * its status record. A workload is gone when its own object is gone (or is
 * being deleted), or when its pod template no longer carries the
 * annotations; a bare pod is its own object. Pure: the object is read by the
 * caller, fresh from the API.
 */
import type { V1CronJob, V1Pod, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { WorkloadObject } from '../kube/api.js';
import type { WorkloadRef } from '../workload.js';

/** Why a workload is gone, or undefined while it is still there and annotated. */
export function whyGone(
  w: WorkloadRef,
  obj: WorkloadObject | undefined,
  isTracked: (annotations: Record<string, string> | undefined) => boolean,
): string | undefined {
  const what = `${w.kind} ${w.namespace}/${w.name}`;
  if (!obj) return `${what} does not exist`;
  if (obj.metadata?.deletionTimestamp) return `${what} is being deleted`;
  const annotations = podTemplateAnnotations(w.kind, obj);
  if (!isTracked(annotations)) {
    return w.kind === 'Pod'
      ? `${what} is no longer annotated`
      : `the pod template of ${what} is no longer annotated`;
  }
  return undefined;
}

/** The annotations the workload's pods get: its pod template's (a bare pod's own). */
export function podTemplateAnnotations(
  kind: string,
  obj: WorkloadObject,
): Record<string, string> | undefined {
  if (kind === 'Pod') return (obj as V1Pod).metadata?.annotations;
  if (kind === 'CronJob') {
    return (obj as V1CronJob).spec?.jobTemplate?.spec?.template?.metadata?.annotations;
  }
  const spec = (obj as { spec?: { template?: V1PodTemplateSpec } }).spec;
  return spec?.template?.metadata?.annotations;
}
