import { OperationError } from '../errors.js';

/** For commands whose implementation has not landed: say so plainly, exit 1. */
export function notAvailableYet(command: string): never {
  throw new OperationError(`'snapkeeper ${command}' is not available yet in this version`);
}
