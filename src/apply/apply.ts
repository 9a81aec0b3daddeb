import type { KubernetesObject } from '@kubernetes/client-node';
import { MANAGED_BY, MANAGED_BY_LABEL, SPEC_HASH_ANNOTATION } from '../labels.js';
import type { MetadataPatcher, ObjectWriter, Propagation } from '../kube/api.js';
import { isConflict, isNotFound } from '../kube/errors.js';
import { preservedAnnotations } from '../status/annotations.js';

/**
 * The one write path. Everything snapkeeper creates, updates or deletes in
 * the API (Events and the Lease aside) goes through applyObject/deleteOwned,
 * and the status record through patchAnnotations.
 *
 * The decision is made on the spec-hash annotation the desired object
 * carries: equal hashes mean nothing to do (no request at all), so a resync
 * of an unchanged world writes nothing. A 409 (someone else wrote first, or
 * our cache is behind) is not an error: the caller requeues. An object of the
 * same name without snapkeeper's managed-by label is never touched.
 */
export type ApplyResult<T> =
  | { action: 'created' | 'updated'; object: T }
  | { action: 'unchanged'; object: T }
  | { action: 'conflict'; message: string }
  | { action: 'foreign'; message: string };

export type DeleteResult = 'deleted' | 'absent' | 'conflict' | 'foreign';

export type PatchResult<T> =
  | { action: 'patched'; object: T }
  | { action: 'conflict'; message: string }
  | { action: 'foreign'; message: string };

export const isManaged = (obj: KubernetesObject | undefined): boolean =>
  obj?.metadata?.labels?.[MANAGED_BY_LABEL] === MANAGED_BY;

export const hashOf = (obj: KubernetesObject | undefined): string | undefined =>
  obj?.metadata?.annotations?.[SPEC_HASH_ANNOTATION];

const describe = (kind: string, obj: KubernetesObject) =>
  `${kind} ${obj.metadata?.namespace}/${obj.metadata?.name}`;

/**
 * Bring one object to its desired state. `desired` must carry the spec-hash
 * annotation (the desired builders set it); `existing` is what the cache
 * holds under that name (undefined if nothing).
 */
export async function applyObject<T extends KubernetesObject>(
  writer: ObjectWriter<T>,
  desired: T,
  existing: T | undefined,
): Promise<ApplyResult<T>> {
  const hash = hashOf(desired);
  if (!hash) throw new Error(`${describe(writer.kind, desired)}: desired object has no spec hash`);
  if (!isManaged(desired)) {
    throw new Error(`${describe(writer.kind, desired)}: desired object lacks the managed-by label`);
  }

  if (!existing) {
    try {
      return { action: 'created', object: await writer.create(desired) };
    } catch (err) {
      if (!isConflict(err)) throw err;
      // AlreadyExists: either our cache is behind, or the name is taken by
      // an object snapkeeper did not create.
      const current = await writer.get(
        desired.metadata?.namespace ?? '',
        desired.metadata?.name ?? '',
      );
      if (current && !isManaged(current)) return foreign(writer.kind, desired);
      return { action: 'conflict', message: `${describe(writer.kind, desired)} already exists` };
    }
  }

  if (!isManaged(existing)) return foreign(writer.kind, desired);
  if (hashOf(existing) === hash) return { action: 'unchanged', object: existing };

  const body = {
    ...desired,
    metadata: {
      ...desired.metadata,
      // The status record (src/status) is not desired state: keep it.
      annotations: { ...preservedAnnotations(existing), ...desired.metadata?.annotations },
      resourceVersion: existing.metadata?.resourceVersion,
    },
  } as T;
  try {
    return { action: 'updated', object: await writer.replace(body) };
  } catch (err) {
    if (isConflict(err) || isNotFound(err)) {
      return {
        action: 'conflict',
        message: `${describe(writer.kind, desired)} changed while updating`,
      };
    }
    throw err;
  }
}

/**
 * Delete an object snapkeeper owns; anything without its label is left alone.
 * `propagation` says what becomes of its dependents (a CronJob's Jobs).
 */
export async function deleteOwned<T extends KubernetesObject>(
  writer: ObjectWriter<T>,
  existing: T | undefined,
  propagation?: Propagation,
): Promise<DeleteResult> {
  if (!existing) return 'absent';
  if (!isManaged(existing)) return 'foreign';
  try {
    await writer.delete(
      existing.metadata?.namespace ?? '',
      existing.metadata?.name ?? '',
      existing.metadata?.resourceVersion,
      propagation,
    );
    return 'deleted';
  } catch (err) {
    if (isNotFound(err)) return 'absent';
    if (isConflict(err)) return 'conflict';
    throw err;
  }
}

/**
 * Set (a string) or remove (null) annotations of an object snapkeeper owns:
 * a merge patch of exactly those keys, guarded by the resourceVersion of
 * `existing` (what the caller read). If the object changed since, the API
 * answers 409 and this returns 'conflict': the caller reads again and
 * requeues, and nobody's change is lost. The status record (src/status) is
 * written this way; it is not desired state, so it has no spec hash.
 */
export async function patchAnnotations<T extends KubernetesObject>(
  patcher: MetadataPatcher<T>,
  existing: T,
  annotations: Record<string, string | null>,
): Promise<PatchResult<T>> {
  if (!isManaged(existing)) return foreign(patcher.kind, existing);
  const resourceVersion = existing.metadata?.resourceVersion;
  if (!resourceVersion) {
    throw new Error(`${describe(patcher.kind, existing)}: no resourceVersion to guard the patch`);
  }
  try {
    const object = await patcher.patchMetadata(
      existing.metadata?.namespace ?? '',
      existing.metadata?.name ?? '',
      { resourceVersion, annotations },
    );
    return { action: 'patched', object };
  } catch (err) {
    if (!isConflict(err)) throw err;
    return {
      action: 'conflict',
      message: `${describe(patcher.kind, existing)} changed since it was read`,
    };
  }
}

function foreign(kind: string, desired: KubernetesObject): { action: 'foreign'; message: string } {
  return {
    action: 'foreign',
    message: `${describe(kind, desired)} exists and is not managed by snapkeeper; leaving it alone`,
  };
}
