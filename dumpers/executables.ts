/**
 * Finding the programs snapkeeper runs (on PATH or in a version's
 * directory), and running a dump tool with a large output buffer.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { ToolCommand } from './types.js';

export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The first executable named `names` in `dirs` (then PATH); undefined if none. */
export function findExecutable(
  names: readonly string[],
  dirs: readonly string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const all = [...dirs, ...(env.PATH ?? '').split(delimiter).filter(Boolean)];
  for (const name of names) {
    for (const d of all) {
      const file = join(d, name);
      if (isExecutable(file)) return file;
    }
  }
  return undefined;
}

/** The size `stdbuf -o` gives a dump tool's stdout. */
export const DUMP_OUTPUT_BUFFER = '1M';

/** Per PATH: the working stdbuf found there, or null. */
const stdbufByPath = new Map<string, string | null>();

/**
 * `stdbuf`, if it is on PATH and works (it preloads a library of its own,
 * which a trimmed image may lack); looked up once per PATH.
 */
export function workingStdbuf(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const path = env.PATH ?? '';
  if (!stdbufByPath.has(path)) {
    const found = findExecutable(['stdbuf'], [], env);
    const works =
      found !== undefined &&
      spawnSync(found, [`-o${DUMP_OUTPUT_BUFFER}`, 'true'], {
        env: { PATH: path },
        stdio: 'ignore',
        timeout: 5000,
      }).status === 0;
    stdbufByPath.set(path, works ? found : null);
  }
  return stdbufByPath.get(path) ?? undefined;
}

/**
 * The command run under `stdbuf -o1M` when that applies: the tool is
 * found (so a missing tool still fails as "not found") and stdbuf works.
 * stdbuf replaces itself with the tool (exec): same pid, same signals,
 * same exit status.
 */
export function withOutputBuffer(
  cmd: ToolCommand,
  env: NodeJS.ProcessEnv = process.env,
): ToolCommand {
  const stdbuf = workingStdbuf(env);
  if (!stdbuf) return cmd;
  const tool = cmd.file.includes('/') ? cmd.file : findExecutable([cmd.file], [], env);
  if (!tool || !isExecutable(tool)) return cmd;
  return { ...cmd, file: stdbuf, args: [`-o${DUMP_OUTPUT_BUFFER}`, tool, ...cmd.args] };
}
