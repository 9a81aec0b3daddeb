/**
 * Reading the status code of a failed Kubernetes request, whichever layer
 * threw it: the generated client's ApiException (`code`), a watch error
 * (`statusCode`), or a Status object delivered in a watch stream (`code`).
 */
export function statusCode(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.code === 'number') return e.code;
  if (typeof e.statusCode === 'number') return e.statusCode;
  return undefined;
}

export const isNotFound = (err: unknown) => statusCode(err) === 404;
/** 409: AlreadyExists on create, Conflict (stale resourceVersion) on update. */
export const isConflict = (err: unknown) => statusCode(err) === 409;
export const isGone = (err: unknown) => statusCode(err) === 410;

/** The result of a read, or undefined when the object does not exist (404). */
export async function orUndefined<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** The `reason` of a Kubernetes Status body (AlreadyExists, Conflict ...), if any. */
export function statusReason(err: unknown): string | undefined {
  const body = (err as { body?: unknown } | null)?.body;
  if (typeof body === 'string') {
    try {
      return (JSON.parse(body) as { reason?: string }).reason;
    } catch {
      return undefined;
    }
  }
  if (typeof body === 'object' && body !== null) return (body as { reason?: string }).reason;
  return undefined;
}
