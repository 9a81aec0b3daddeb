/** Labels and annotations every object snapkeeper owns for a workload carries. */
import type { V1OwnerReference } from '@kubernetes/client-node';
import type { OperatorConfig } from '../config/operator.js';
import { workloadKey, type WorkloadRef } from '../workload.js';
import {
  ENGINE_LABEL,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  WORKLOAD_ANNOTATION,
  WORKLOAD_KIND_LABEL,
  WORKLOAD_NAME_LABEL,
  WORKLOAD_NAMESPACE_LABEL,
} from '../labels.js';
import type { EngineType } from '../manifest.js';

/**
 * Label values must be ≤ 63 characters; names of workloads can be longer
 * (up to 253). A longer name is cut and made unique with a hash suffix; the
 * objects are still found by name (objectName), the labels serve selection.
 */
export function ownedLabels(w: WorkloadRef, type?: EngineType): Record<string, string> {
  const labels: Record<string, string> = {
    [MANAGED_BY_LABEL]: MANAGED_BY,
    [WORKLOAD_NAMESPACE_LABEL]: w.namespace,
    [WORKLOAD_KIND_LABEL]: w.kind,
    [WORKLOAD_NAME_LABEL]: labelValue(w.name),
  };
  if (type) labels[ENGINE_LABEL] = type;
  return labels;
}

/** Annotations every owned object carries: the full workload key, uncut. */
export function ownedAnnotations(w: WorkloadRef): Record<string, string> {
  return { [WORKLOAD_ANNOTATION]: workloadKey(w) };
}

/**
 * The owner every object snapkeeper creates names, when the operator has one
 * (the chart's ConfigMap): `helm uninstall` deletes it, and the garbage
 * collector then removes the CronJobs and Secrets snapkeeper made.
 */
export function ownerReferences(config: Pick<OperatorConfig, 'ownerReference'>): {
  ownerReferences?: V1OwnerReference[];
} {
  return config.ownerReference ? { ownerReferences: [config.ownerReference] } : {};
}

function labelValue(s: string): string {
  if (s.length <= 63) return s;
  let h = 0;
  for (const c of s) h = (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0;
  return `${s.slice(0, 54).replace(/[^A-Za-z0-9]+$/, '')}-${h.toString(16).padStart(8, '0')}`;
}
