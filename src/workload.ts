/**
 * Workload identity: what a workload is, its key, and which workload an
 * object snapkeeper owns is for. Everything that asks "whose is this?"
 * answers here.
 *
 * A workload is a namespace, a kind and a name (one backup per workload,
 * never one per replica; src/discovery/owner.ts finds it from a pod). Its key
 * "namespace/Kind/name" is the work queue's key, the seed of H in schedules,
 * the input of the owned objects' names (src/desired/names.ts) and the value
 * of the snapkeeper.io/workload annotation.
 *
 * What carries the workload, by object kind:
 *   owned CronJob, mirrored Secret → the snapkeeper.io/workload annotation
 *                                    (the full key), and the workload labels,
 *                                    whose name is cut at 63 characters
 *   Job, its pod                   → the labels only; a Job's workload is its
 *                                    CronJob's (ownerReferences)
 *   a backup's manifest, the CLI   → namespace/name, no kind (WorkloadName)
 */
import {
  WORKLOAD_ANNOTATION,
  WORKLOAD_KIND_LABEL,
  WORKLOAD_NAME_LABEL,
  WORKLOAD_NAMESPACE_LABEL,
} from './labels.js';

export const WORKLOAD_KINDS = [
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'CronJob',
  'Job',
  'ReplicaSet',
  'Pod',
] as const;

export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];

export interface WorkloadRef {
  namespace: string;
  kind: WorkloadKind;
  name: string;
}

/** A workload as a backup's manifest and the CLI name it: `namespace/name`, no kind. */
export interface WorkloadName {
  namespace: string;
  name: string;
}

/** The labels and annotations of an object's metadata: all identity reads. */
export interface Labelled {
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

export function isWorkloadKind(s: string): s is WorkloadKind {
  return (WORKLOAD_KINDS as readonly string[]).includes(s);
}

/** "namespace/Kind/name". */
export function workloadKey(w: WorkloadRef): string {
  return `${w.namespace}/${w.kind}/${w.name}`;
}

/**
 * A key back to its workload, or undefined when it is not one: exactly three
 * non-empty parts (no Kubernetes name holds a slash) and a known kind.
 */
export function parseWorkloadKey(key: string): WorkloadRef | undefined {
  const parts = key.split('/');
  if (parts.length !== 3) return undefined;
  const [namespace = '', kind = '', name = ''] = parts;
  if (!namespace || !name || !isWorkloadKind(kind)) return undefined;
  return { namespace, kind, name };
}

/**
 * Which workload an owned object (CronJob, Secret) is for: its
 * snapkeeper.io/workload annotation. Objects written before the annotation
 * existed carry only the labels: their workload is read from those, unless
 * the name label was cut (a name longer than a label allows is stored cut,
 * with a hash suffix, src/desired/labels.ts) and cannot give the name back.
 */
export function ownerOf(obj: Labelled): WorkloadRef | undefined {
  const annotated = obj.metadata?.annotations?.[WORKLOAD_ANNOTATION];
  if (annotated) {
    const w = parseWorkloadKey(annotated);
    if (w) return w;
  }
  const l = obj.metadata?.labels ?? {};
  const namespace = l[WORKLOAD_NAMESPACE_LABEL];
  const kind = l[WORKLOAD_KIND_LABEL];
  const name = l[WORKLOAD_NAME_LABEL];
  if (!namespace || !kind || !name || isCutLabelValue(name)) return undefined;
  return parseWorkloadKey(`${namespace}/${kind}/${name}`);
}

/** ownerOf, as a key. */
export function ownerKey(obj: Labelled): string | undefined {
  const w = ownerOf(obj);
  return w ? workloadKey(w) : undefined;
}

/**
 * Is the object one of this workload's: its annotation names it, or its
 * labels do (objects written before the annotation existed). A cut name
 * label matches the cut name only; such objects are also found by their
 * stable name (src/desired/names.ts).
 */
export function isOwnedBy(obj: Labelled, w: WorkloadRef): boolean {
  if (obj.metadata?.annotations?.[WORKLOAD_ANNOTATION] === workloadKey(w)) return true;
  const l = obj.metadata?.labels ?? {};
  return (
    l[WORKLOAD_NAMESPACE_LABEL] === w.namespace &&
    l[WORKLOAD_KIND_LABEL] === w.kind &&
    l[WORKLOAD_NAME_LABEL] === w.name
  );
}

/** A name label value cut to 63 characters with a hash suffix (src/desired/labels.ts). */
function isCutLabelValue(v: string): boolean {
  return v.length === 63 && /-[0-9a-f]{8}$/.test(v);
}

/** `namespace/name`. */
export function workloadName(w: WorkloadName): string {
  return `${w.namespace}/${w.name}`;
}

/**
 * `namespace/name` as a backup's manifest or a `--workload` flag gives it:
 * two parts without slash or blank, surrounding blanks ignored; undefined
 * otherwise. Stored manifests are taken as they are written.
 */
export function parseWorkloadName(s: string): WorkloadName | undefined {
  const m = /^([^/\s]+)\/([^/\s]+)$/.exec(s.trim());
  return m ? { namespace: m[1]!, name: m[2]! } : undefined;
}

/**
 * parseWorkloadName, where the parts must also be names Kubernetes accepts
 * (a namespace is a DNS label, a workload a DNS subdomain): for what is
 * looked up in the API.
 */
export function parseKubernetesWorkloadName(s: string): WorkloadName | undefined {
  const w = parseWorkloadName(s);
  if (!w) return undefined;
  const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  const dnsSubdomain = /^[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/;
  return dnsLabel.test(w.namespace) && dnsSubdomain.test(w.name) ? w : undefined;
}

/** Do two `namespace/name` name the same workload? */
export function sameWorkloadName(a: WorkloadName, b: WorkloadName): boolean {
  return a.namespace === b.namespace && a.name === b.name;
}
