// Running a command to its end, for the servers' setup steps and for tests.
import { execFile } from 'node:child_process';

export interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

export interface ExecOptions {
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  cwd?: string;
  timeoutMs?: number;
  /** run as this account (we are root; see servers/process.serverAccount) */
  as?: { uid: number; gid: number; home: string } | undefined;
}

/** Runs a command to its end; a non-zero exit is a result, not an error (see `run`). */
export function exec(command: string, args: string[], opts: ExecOptions = {}): Promise<RunResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...opts.env };
  if (opts.as) env.HOME = opts.as.home;
  return new Promise((resolveRun, reject) => {
    const child = execFile(
      command,
      args,
      {
        env,
        cwd: opts.cwd,
        encoding: 'buffer',
        maxBuffer: 256 * 1024 * 1024,
        timeout: opts.timeoutMs ?? 120_000,
        ...(opts.as ? { uid: opts.as.uid, gid: opts.as.gid } : {}),
      },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') {
          // not started, killed by the timeout or a signal
          reject(
            new Error(
              `${command} ${args.join(' ')}: ${err.message}\n${stderr.toString()}`.trimEnd(),
            ),
          );
          return;
        }
        resolveRun({ code: err ? (err.code as number) : 0, stdout, stderr: stderr.toString() });
      },
    );
    // A child that exits (or fails to start) before reading its input is
    // reported through the callback, not as an EPIPE.
    child.stdin?.on('error', () => {});
    child.stdin?.end(opts.input ?? '');
  });
}

/** Runs a command; a non-zero exit throws with its output. Returns stdout as text. */
export async function run(
  command: string,
  args: string[],
  opts: ExecOptions = {},
): Promise<string> {
  const r = await exec(command, args, opts);
  if (r.code !== 0) {
    const out = `${r.stdout.toString()}${r.stderr}`.trim();
    throw new Error(`${command} ${args.join(' ')} exited ${r.code}: ${out}`);
  }
  return r.stdout.toString();
}
