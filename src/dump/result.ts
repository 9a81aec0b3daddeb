/**
 * Where the dumper's result line goes (its schema and formatting:
 * src/contract/dump-result.ts).
 */
import { writeFile } from 'node:fs/promises';

/** Writes the line to the termination-message path (best effort: a missing /dev/termination-log is not a failure). */
export async function writeResult(line: string, path: string | undefined): Promise<boolean> {
  if (!path) return false;
  try {
    await writeFile(path, line);
    return true;
  } catch {
    return false;
  }
}
