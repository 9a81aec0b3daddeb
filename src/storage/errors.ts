import { OperationError, UserError } from '../errors.js';

/** `Storage.get` of a key that does not exist. */
export class NotFoundError extends OperationError {
  constructor(
    readonly key: string,
    where: string,
  ) {
    super(`${key} not found in ${where}`);
  }
}

/**
 * An exclusive write (`put` / `upload` with `exclusive`) found something at
 * its key already: nothing was written and what was there is unchanged.
 */
export class AlreadyExistsError extends OperationError {
  constructor(
    readonly key: string,
    where: string,
  ) {
    super(`${where}${key} already exists: it was not overwritten`);
  }
}

/**
 * Keys are `/`-separated, relative, and never climb out of the root: no
 * empty segment, no `.` or `..`, no backslash, no leading `/`. A key read from
 * a manifest goes through this too, so a crafted manifest cannot point a
 * restore or a prune outside the storage root.
 */
export function checkKey(key: string): string {
  const bad =
    key === '' ||
    key.startsWith('/') ||
    key.includes('\\') ||
    key.includes('\0') ||
    key.split('/').some((s) => s === '' || s === '.' || s === '..');
  if (bad) throw new UserError(`invalid storage key ${JSON.stringify(key)}`);
  return key;
}
