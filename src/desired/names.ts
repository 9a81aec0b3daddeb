/**
 * Names of the objects snapkeeper owns for a workload: a readable prefix
 * (`snapkeeper-<namespace>-<name>`) and a short hash of the full workload
 * key, so the name is stable, unique per workload (two workloads whose
 * names truncate alike, or a Deployment and a StatefulSet of one name, still
 * differ) and a valid DNS label of at most 52 characters: the CronJob
 * controller appends 11 characters to name its Jobs, and Job names must stay
 * within 63.
 */
import { createHash } from 'node:crypto';
import { workloadKey, type WorkloadRef } from '../workload.js';

export const MAX_NAME_LENGTH = 52;
const HASH_LENGTH = 6;

export function objectName(w: WorkloadRef, separator = '-'): string {
  const hash = createHash('sha256').update(workloadKey(w)).digest('hex').slice(0, HASH_LENGTH);
  const readable = `snapkeeper-${w.namespace}-${w.name}`
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, MAX_NAME_LENGTH - HASH_LENGTH - separator.length)
    .replace(/-+$/, '');
  return `${readable}${separator}${hash}`;
}
